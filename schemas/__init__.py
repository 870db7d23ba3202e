"""yujing's event schemas: one frozen, versioned pydantic model per Kafka topic.

The flow is reading → signal → alert → order → notification; every hop is a
topic, and :mod:`schemas.registry` binds each topic name to its key and model.
Serialization is JSON through pydantic (:mod:`schemas.codec`), never pickle.
"""

from schemas.alert import Alert, AlertKind
from schemas.base import Event
from schemas.dead_letter import DeadLetter, DeadLetterReason
from schemas.department import DepartmentEvent
from schemas.notification import (
    Channel,
    NotificationReceipt,
    NotificationRequest,
    ReceiptStatus,
)
from schemas.order import DispatchOrder, DispatchUpdate, OrderAction, SlaBreach, SlaClass
from schemas.reading import SensorReading
from schemas.signal import RiskSignal

__all__ = [
    "Alert",
    "AlertKind",
    "Channel",
    "DeadLetter",
    "DeadLetterReason",
    "DepartmentEvent",
    "DispatchOrder",
    "DispatchUpdate",
    "Event",
    "NotificationReceipt",
    "NotificationRequest",
    "OrderAction",
    "ReceiptStatus",
    "RiskSignal",
    "SensorReading",
    "SlaBreach",
    "SlaClass",
]
