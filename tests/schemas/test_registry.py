"""The topic registry: one topic per model, keys taken from the event itself."""

from __future__ import annotations

import re

import pytest

import schemas
from schemas import registry
from schemas.base import Event
from schemas.registry import BY_SCHEMA, TOPICS, spec_for

EVENT_MODELS = [
    obj
    for name in schemas.__all__
    if isinstance(obj := getattr(schemas, name), type)
    and issubclass(obj, Event)
    and obj is not Event
]


def test_the_public_event_models_are_found() -> None:
    assert len(EVENT_MODELS) == 18
    # The closed loop's models: order status, auto-disposal's internal hops, clock ticks,
    # voice calls waiting for their outcome.
    assert {
        schemas.OrderStatus,
        schemas.DisposalWatch,
        schemas.PlaceWatch,
        schemas.SensorHealth,
        schemas.Tick,
        schemas.PendingCall,
    } <= set(EVENT_MODELS)


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_every_public_event_model_has_exactly_one_topic(model: type[Event]) -> None:
    carrying = [s.name for s in registry._SPECS if s.schema is model]
    assert len(carrying) == 1, f"{model.__name__} is carried by {carrying}"
    assert spec_for(model).name == carrying[0]
    assert BY_SCHEMA[model].name == carrying[0]


def test_every_registered_model_is_public() -> None:
    assert set(BY_SCHEMA) == set(EVENT_MODELS)


def test_topic_names_are_unique() -> None:
    names = [s.name for s in registry._SPECS]
    assert len(names) == len(set(names)) == len(TOPICS)


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_topic_names_end_in_their_schema_version(topic: str) -> None:
    spec = TOPICS[topic]
    version = spec.schema.model_fields["schema_version"].default
    assert topic.endswith(f".v{version}")
    assert re.fullmatch(r"yujing\.[a-z]+(-[a-z]+)*\.v[0-9]+", topic)
    # A legal Kafka topic name.
    assert len(topic) <= 249 and re.fullmatch(r"[A-Za-z0-9._-]+", topic)
    assert spec.description


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_the_key_field_is_a_required_field_of_the_model(topic: str) -> None:
    spec = TOPICS[topic]
    field = spec.schema.model_fields.get(spec.key_field)
    assert field is not None, f"{spec.schema.__name__} has no field {spec.key_field!r}"
    assert field.is_required()


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_key_of_returns_the_key_field_as_bytes(
    examples: dict[type[Event], Event], topic: str
) -> None:
    spec = TOPICS[topic]
    event = examples[spec.schema]
    key = spec.key_of(event)
    assert isinstance(key, bytes)
    assert key == getattr(event, spec.key_field).encode()
    assert key  # never an empty key
    assert spec_for(event) is spec


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_key_of_refuses_an_event_of_another_type(
    examples: dict[type[Event], Event], topic: str
) -> None:
    spec = TOPICS[topic]
    for model, other in examples.items():
        if model is spec.schema:
            continue
        with pytest.raises(TypeError, match=re.escape(topic)):
            spec.key_of(other)


def test_keys_that_share_a_partitioning_share_a_field(examples: dict[type[Event], Event]) -> None:
    # Signals are keyed by place so that all risks of one place co-partition.
    assert registry.SIGNALS.key_of(examples[schemas.RiskSignal]) == b"place/hz-001"
    assert registry.DEPARTMENT_EVENTS.key_field == registry.SIGNALS.key_field == "place_id"
    # Orders, their updates, breaches, status changes and sensor health co-partition by order id.
    assert {
        registry.DISPATCH_ORDERS.key_field,
        registry.DISPATCH_UPDATES.key_field,
        registry.SLA_BREACHES.key_field,
        registry.ORDER_STATUS.key_field,
        registry.DISPOSAL_CHECKS.key_field,
    } == {"order_id"}
    # A disposal watch co-partitions with the readings of the sensor it watches.
    assert registry.DISPOSAL_WATCH.key_field == registry.READINGS.key_field == "sensor_id"
    assert registry.DISPOSAL_WATCH.key_of(examples[schemas.DisposalWatch]) == (
        registry.READINGS.key_of(examples[schemas.SensorReading])
    )
    # A place watch co-partitions with the department records of the place it watches.
    assert registry.PLACE_WATCH.key_field == registry.DEPARTMENT_EVENTS.key_field
    assert registry.PLACE_WATCH.key_of(examples[schemas.PlaceWatch]) == (
        registry.DEPARTMENT_EVENTS.key_of(examples[schemas.DepartmentEvent])
    )
    # A tick is keyed by the partition it is sent to.
    assert registry.TICKS.key_of(examples[schemas.Tick]) == b"1"
    assert registry.NOTIFICATIONS.key_field == registry.RECEIPTS.key_field == "notification_id"
    # A pending voice call is co-partitioned with its notification and its receipt.
    assert registry.PENDING_CALLS.key_field == "notification_id"


def test_named_constants_point_at_their_topics() -> None:
    constants = [
        registry.READINGS,
        registry.READING_BATCHES,
        registry.DEPARTMENT_EVENTS,
        registry.SIGNALS,
        registry.ALERTS,
        registry.DISPATCH_ORDERS,
        registry.DISPATCH_UPDATES,
        registry.SLA_BREACHES,
        registry.ORDER_STATUS,
        registry.DISPOSAL_WATCH,
        registry.PLACE_WATCH,
        registry.DISPOSAL_CHECKS,
        registry.TICKS,
        registry.NOTIFICATIONS,
        registry.PENDING_CALLS,
        registry.RECEIPTS,
        registry.DEAD_LETTERS,
        registry.SCOPED_SIGNALS,
    ]
    assert {c.name for c in constants} == set(TOPICS)
    assert registry.READINGS.schema is schemas.SensorReading
    assert registry.DEAD_LETTERS.schema is schemas.DeadLetter
    assert registry.ORDER_STATUS.schema is schemas.OrderStatus
    assert registry.DISPOSAL_WATCH.schema is schemas.DisposalWatch
    assert registry.PLACE_WATCH.schema is schemas.PlaceWatch
    assert registry.DISPOSAL_CHECKS.schema is schemas.SensorHealth
    assert registry.PENDING_CALLS.schema is schemas.PendingCall
    assert registry.TICKS.schema is schemas.Tick


def test_spec_for_an_unregistered_type_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no topic carries Event"):
        spec_for(Event)


def test_the_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        TOPICS["x"] = registry.READINGS  # type: ignore[index]
    with pytest.raises(TypeError):
        BY_SCHEMA[Event] = registry.READINGS  # type: ignore[index]
