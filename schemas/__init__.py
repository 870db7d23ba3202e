"""yujing's event schemas: one frozen, versioned pydantic model per Kafka topic.

The flow is reading → signal → alert → order → notification; every hop is a
topic, and :mod:`schemas.registry` binds each topic name to its key and model.
Serialization is JSON through pydantic (:mod:`schemas.codec`), never pickle.
"""

from schemas.alert import Alert, AlertKind, Contribution, Portrait, ScopeKind
from schemas.base import Event
from schemas.batch import ReadingBatch
from schemas.dead_letter import DeadLetter, DeadLetterReason
from schemas.department import DepartmentEvent
from schemas.disposal import DisposalWatch, PlaceWatch, SensorHealth, Tick
from schemas.notification import (
    CallOutcome,
    Channel,
    NotificationReceipt,
    NotificationRequest,
    PendingCall,
    ReceiptStatus,
)
from schemas.order import (
    AutoDisposalPlan,
    DispatchOrder,
    DispatchUpdate,
    OrderAction,
    OrderState,
    OrderStatus,
    SlaBreach,
    SlaClass,
)
from schemas.reading import SensorReading
from schemas.scoped import ScopedSignal
from schemas.signal import RiskSignal

__all__ = [
    "Alert",
    "AlertKind",
    "AutoDisposalPlan",
    "CallOutcome",
    "Channel",
    "Contribution",
    "DeadLetter",
    "DeadLetterReason",
    "DepartmentEvent",
    "DispatchOrder",
    "DispatchUpdate",
    "DisposalWatch",
    "Event",
    "NotificationReceipt",
    "NotificationRequest",
    "OrderAction",
    "OrderState",
    "OrderStatus",
    "PendingCall",
    "PlaceWatch",
    "Portrait",
    "ReadingBatch",
    "ReceiptStatus",
    "RiskSignal",
    "ScopeKind",
    "ScopedSignal",
    "SensorHealth",
    "SensorReading",
    "SlaBreach",
    "SlaClass",
    "Tick",
]
