"""The topic registry: one topic, one key, one schema.

Every hop of the flow (reading → signal → alert → order → notification, and
the dead-letter topic beside them) is listed here once. Producers take the key
from the event itself (``key_field``), so a key can never disagree with its
value; the JSON Schema files and docs are generated from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from schemas.alert import Alert
from schemas.base import Event
from schemas.batch import ReadingBatch
from schemas.dead_letter import DeadLetter
from schemas.department import DepartmentEvent
from schemas.disposal import DisposalWatch, PlaceWatch, SensorHealth, Tick
from schemas.notification import NotificationReceipt, NotificationRequest, PendingCall
from schemas.order import DispatchOrder, DispatchUpdate, OrderStatus, SlaBreach
from schemas.reading import SensorReading
from schemas.scoped import ScopedSignal
from schemas.signal import RiskSignal


@dataclass(frozen=True)
class TopicSpec:
    """A topic's contract."""

    name: str
    schema: type[Event]
    key_field: str
    description: str
    #: a list field whose items are events checked one by one: a bad item is
    #: dead-lettered alone (:func:`schemas.codec.decode_items`); ``None``: none
    items: str | None = None
    #: written by systems outside the pipeline (gateways, departments, field crews):
    #: their event times are judged for plausibility before any agent sees them
    external: bool = False

    def key_of(self, event: Event) -> bytes:
        """The Kafka key for ``event`` on this topic."""
        if not isinstance(event, self.schema):
            raise TypeError(
                f"{self.name} carries {self.schema.__name__}, not {type(event).__name__}"
            )
        return str(getattr(event, self.key_field)).encode()


_SPECS = [
    TopicSpec(
        "yujing.readings.v1",
        SensorReading,
        "sensor_id",
        "IoT sensor readings from gateways.",
        external=True,
    ),
    TopicSpec(
        "yujing.reading-batches.v1",
        ReadingBatch,
        "sensor_group",
        "IoT sensor readings uploaded in batches by gateways: up to 500 a record, of sensors "
        "of one partition.",
        items="readings",
        external=True,
    ),
    TopicSpec(
        "yujing.department-events.v1",
        DepartmentEvent,
        "place_id",
        "Records from government departments.",
        external=True,
    ),
    TopicSpec(
        "yujing.signals.v1",
        RiskSignal,
        "place_id",
        "Single-risk signals, keyed by place so all risks of a place co-partition.",
    ),
    TopicSpec(
        "yujing.scoped-signals.v1",
        ScopedSignal,
        "scope_key",
        "Internal: signals re-keyed by town, industry or district, so a scope's signals meet.",
    ),
    TopicSpec(
        "yujing.alerts.v1",
        Alert,
        "alert_id",
        "Single, compound and systemic alerts with their portraits.",
    ),
    TopicSpec(
        "yujing.dispatch-orders.v1",
        DispatchOrder,
        "order_id",
        "One dispatch order per alert, for field apps and case systems.",
    ),
    TopicSpec(
        "yujing.dispatch-updates.v1",
        DispatchUpdate,
        "order_id",
        "Lifecycle updates sent back by downstream systems.",
        external=True,
    ),
    TopicSpec(
        "yujing.sla-breaches.v1",
        SlaBreach,
        "order_id",
        "Missed stage deadlines, once per order and stage.",
    ),
    TopicSpec(
        "yujing.order-status.v1",
        OrderStatus,
        "order_id",
        "Lifecycle state changes of orders (created, signed, ..., auto-resolved, escalated).",
    ),
    TopicSpec(
        "yujing.disposal-watch.v1",
        DisposalWatch,
        "sensor_id",
        "Internal: auto-disposal asks the sensor side to follow its re-check.",
    ),
    TopicSpec(
        "yujing.place-watch.v1",
        PlaceWatch,
        "place_id",
        "Internal: auto-disposal asks the place side whether its department records stop.",
    ),
    TopicSpec(
        "yujing.disposal-checks.v1",
        SensorHealth,
        "order_id",
        "Internal: a watched sensor or place recovered (or relapsed), re-keyed to its order.",
    ),
    TopicSpec(
        "yujing.ticks.v1",
        Tick,
        "partition",
        "Internal: clock ticks, one per partition, that drive durable SLA deadlines.",
    ),
    TopicSpec(
        "yujing.notifications.v2",
        NotificationRequest,
        "notification_id",
        "Notification requests for the SMS and voice router.",
    ),
    TopicSpec(
        "yujing.pending-calls.v1",
        PendingCall,
        "notification_id",
        "Internal: voice calls placed whose outcome is not known yet, checked off the hot path.",
    ),
    TopicSpec(
        "yujing.notification-receipts.v1",
        NotificationReceipt,
        "notification_id",
        "Delivery receipts from the router.",
    ),
    TopicSpec(
        "yujing.dead-letters.v1",
        DeadLetter,
        "source_topic",
        "Messages that could not be processed, with reason and original bytes.",
    ),
]

#: topic name → spec
TOPICS: MappingProxyType[str, TopicSpec] = MappingProxyType({s.name: s for s in _SPECS})
#: model class → spec
BY_SCHEMA: MappingProxyType[type[Event], TopicSpec] = MappingProxyType(
    {s.schema: s for s in _SPECS}
)

READINGS = TOPICS["yujing.readings.v1"]
READING_BATCHES = TOPICS["yujing.reading-batches.v1"]
DEPARTMENT_EVENTS = TOPICS["yujing.department-events.v1"]
SIGNALS = TOPICS["yujing.signals.v1"]
SCOPED_SIGNALS = TOPICS["yujing.scoped-signals.v1"]
ALERTS = TOPICS["yujing.alerts.v1"]
DISPATCH_ORDERS = TOPICS["yujing.dispatch-orders.v1"]
DISPATCH_UPDATES = TOPICS["yujing.dispatch-updates.v1"]
SLA_BREACHES = TOPICS["yujing.sla-breaches.v1"]
ORDER_STATUS = TOPICS["yujing.order-status.v1"]
DISPOSAL_WATCH = TOPICS["yujing.disposal-watch.v1"]
PLACE_WATCH = TOPICS["yujing.place-watch.v1"]
DISPOSAL_CHECKS = TOPICS["yujing.disposal-checks.v1"]
TICKS = TOPICS["yujing.ticks.v1"]
NOTIFICATIONS = TOPICS["yujing.notifications.v2"]
PENDING_CALLS = TOPICS["yujing.pending-calls.v1"]
RECEIPTS = TOPICS["yujing.notification-receipts.v1"]
DEAD_LETTERS = TOPICS["yujing.dead-letters.v1"]


def spec_for(event: Event | type[Event]) -> TopicSpec:
    """The spec of the topic that carries this event type."""
    cls = event if isinstance(event, type) else type(event)
    try:
        return BY_SCHEMA[cls]
    except KeyError:
        raise KeyError(f"no topic carries {cls.__name__}") from None
