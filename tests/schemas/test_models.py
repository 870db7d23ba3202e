"""Every topic model is frozen, closed, versioned, timed and strict."""

from __future__ import annotations

import json
import typing
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import (
    DepartmentEvent,
    DisposalWatch,
    NotificationReceipt,
    OrderStatus,
    RiskSignal,
    SensorHealth,
    SensorReading,
)
from schemas.base import Event, utc
from schemas.codec import DecodeError, decode, encode
from schemas.dead_letter import DeadLetterReason
from schemas.order import DispatchOrder, SlaBreach
from schemas.registry import BY_SCHEMA, TOPICS

TOPIC_NAMES = sorted(TOPICS)
_RAW = "__raw_json_token__"


def _example(examples: dict[type[Event], Event], topic: str) -> Event:
    return examples[TOPICS[topic].schema]


def _json_with(event: Event, path: tuple[str, ...], raw: str) -> bytes:
    """``event`` as JSON with the value at ``path`` replaced by the raw JSON text ``raw``."""
    doc: dict[str, Any] = event.model_dump(mode="json")
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = _RAW
    text = json.dumps(doc)
    assert text.count(f'"{_RAW}"') == 1
    return text.replace(f'"{_RAW}"', raw).encode()


def _decode_error(schema: type[Event], data: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode(schema, data)
    return info.value


def test_there_is_one_example_per_topic_model(examples: dict[type[Event], Event]) -> None:
    assert set(examples) == set(BY_SCHEMA)


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_round_trip_encode_decode_is_identity(
    examples: dict[type[Event], Event], topic: str
) -> None:
    event = _example(examples, topic)
    data = encode(event)
    back = decode(TOPICS[topic].schema, data)
    assert back == event
    assert type(back) is type(event)
    # The encoding is stable: encoding the decoded event gives the very same bytes.
    assert encode(back) == data


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_models_are_frozen(examples: dict[type[Event], Event], topic: str) -> None:
    event = _example(examples, topic)
    before = event.event_time
    with pytest.raises(ValidationError, match="frozen"):
        event.event_time = datetime(2000, 1, 1, tzinfo=before.tzinfo)  # type: ignore[misc]
    key_field = TOPICS[topic].key_field
    with pytest.raises(ValidationError, match="frozen"):
        setattr(event, key_field, "other")
    assert event.event_time == before
    assert type(event).model_config.get("frozen") is True


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_models_forbid_extra_fields(examples: dict[type[Event], Event], topic: str) -> None:
    event = _example(examples, topic)
    schema = TOPICS[topic].schema
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        schema.model_validate({**event.model_dump(), "unexpected": 1})
    doc = event.model_dump(mode="json") | {"unexpected": 1}
    err = _decode_error(schema, json.dumps(doc).encode())
    assert err.reason is DeadLetterReason.SCHEMA
    assert "unexpected" in err.detail


def _version(topic: str) -> int:
    """The version a topic's name says (``yujing.notifications.v2`` → 2)."""
    return int(topic.rsplit(".v", 1)[1])


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_schema_version_is_the_literal_of_the_topics_version(topic: str) -> None:
    schema = TOPICS[topic].schema
    field = schema.model_fields["schema_version"]
    assert typing.get_origin(field.annotation) is typing.Literal
    assert typing.get_args(field.annotation) == (_version(topic),)
    assert field.default == _version(topic)


@pytest.mark.parametrize("topic", TOPIC_NAMES)
# (1.0 is accepted: JSON, and JSON Schema's "const": 1, do not tell 1.0 from 1.)
@pytest.mark.parametrize("version", ["next", "previous", "0", "-1", '"1"', "null"])
def test_other_schema_versions_are_rejected(
    examples: dict[type[Event], Event], topic: str, version: str
) -> None:
    event = _example(examples, topic)
    raw = {"next": str(_version(topic) + 1), "previous": str(_version(topic) - 1)}.get(
        version, version
    )
    err = _decode_error(TOPICS[topic].schema, _json_with(event, ("schema_version",), raw))
    assert err.reason is DeadLetterReason.SCHEMA
    assert "schema_version" in err.detail


def test_boolean_schema_version_is_rejected(examples: dict[type[Event], Event]) -> None:
    event = examples[SensorReading]
    err = _decode_error(SensorReading, _json_with(event, ("schema_version",), "true"))
    assert err.reason is DeadLetterReason.SCHEMA


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_event_time_is_required_and_must_be_timezone_aware(
    examples: dict[type[Event], Event], topic: str
) -> None:
    event = _example(examples, topic)
    schema = TOPICS[topic].schema
    assert "event_time" in schema.model_fields
    assert schema.model_fields["event_time"].is_required()

    naive = event.event_time.replace(tzinfo=None)
    with pytest.raises(ValidationError, match="timezone"):
        schema.model_validate({**event.model_dump(), "event_time": naive})

    err = _decode_error(schema, _json_with(event, ("event_time",), f'"{naive.isoformat()}"'))
    assert err.reason is DeadLetterReason.SCHEMA
    assert "event_time" in err.detail

    doc = event.model_dump(mode="json")
    del doc["event_time"]
    err = _decode_error(schema, json.dumps(doc).encode())
    assert "event_time" in err.detail


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        (RiskSignal, ("detected_at",)),
        (SlaBreach, ("deadline",)),
        (DispatchOrder, ("deadlines", "signed")),
        (DispatchOrder, ("auto_disposal", "recheck_at")),
        (DisposalWatch, ("until",)),
    ],
)
def test_other_datetimes_must_be_timezone_aware_too(
    examples: dict[type[Event], Event], schema: type[Event], path: tuple[str, ...]
) -> None:
    err = _decode_error(schema, _json_with(examples[schema], path, '"2026-03-01T08:30:00"'))
    assert err.reason is DeadLetterReason.SCHEMA
    assert path[0] in err.detail


def test_utc_helper_rejects_naive_datetimes() -> None:
    aware = datetime(2026, 1, 1).astimezone()
    assert utc(aware) is aware
    with pytest.raises(ValueError, match="naive"):
        utc(datetime(2026, 1, 1))


#: Every float-typed position in the models: (model, path into its JSON document).
FLOAT_FIELDS: list[tuple[type[Event], tuple[str, ...]]] = [
    (SensorReading, ("value",)),
    (SensorReading, ("values", "temperature_c")),
    (RiskSignal, ("score",)),
    (RiskSignal, ("threshold",)),
    (RiskSignal, ("baseline",)),
    (RiskSignal, ("indicators", "gas_lel")),
]
#: Positions that also admit a float among other types.
MIXED_FIELDS: list[tuple[type[Event], tuple[str, ...]]] = [
    (DepartmentEvent, ("attributes", "score")),
]


def _ids(cases: list[tuple[type[Event], tuple[str, ...]]]) -> list[str]:
    return [f"{m.__name__}.{'.'.join(p)}" for m, p in cases]


@pytest.mark.parametrize(("schema", "path"), FLOAT_FIELDS, ids=_ids(FLOAT_FIELDS))
def test_a_numeric_string_is_not_coerced_to_float(
    examples: dict[type[Event], Event], schema: type[Event], path: tuple[str, ...]
) -> None:
    err = _decode_error(schema, _json_with(examples[schema], path, '"12"'))
    assert err.reason is DeadLetterReason.SCHEMA
    assert path[0] in err.detail
    with pytest.raises(ValidationError):
        dumped = examples[schema].model_dump()
        node = dumped
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = "12"
        schema.model_validate(dumped)


@pytest.mark.parametrize(
    ("schema", "path"), FLOAT_FIELDS + MIXED_FIELDS, ids=_ids(FLOAT_FIELDS + MIXED_FIELDS)
)
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_floats_are_rejected(
    examples: dict[type[Event], Event], schema: type[Event], path: tuple[str, ...], token: str
) -> None:
    err = _decode_error(schema, _json_with(examples[schema], path, token))
    assert err.reason is DeadLetterReason.SCHEMA
    assert path[0] in err.detail


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_rejected_in_python_too(
    examples: dict[type[Event], Event], value: float
) -> None:
    with pytest.raises(ValidationError, match="finite"):
        SensorReading.model_validate({**examples[SensorReading].model_dump(), "value": value})


def test_an_integer_is_accepted_for_a_float_field(examples: dict[type[Event], Event]) -> None:
    reading = decode(SensorReading, _json_with(examples[SensorReading], ("value",), "12"))
    assert reading.value == 12.0
    assert isinstance(reading.value, float)


@pytest.mark.parametrize(
    ("schema", "path", "raw"),
    [
        (RiskSignal, ("emergency",), '"true"'),
        (RiskSignal, ("emergency",), "1"),
        (RiskSignal, ("detector_version",), '"2"'),
        (RiskSignal, ("detector_version",), "true"),
        (SensorReading, ("sensor_id",), "17"),
        (DispatchOrder, ("channels",), '["fax"]'),
        (DispatchOrder, ("auto_disposal", "healthy_readings"), '"3"'),
        (DisposalWatch, ("healthy_readings",), "3.5"),
        (SensorHealth, ("recovered",), '"true"'),
        (SensorHealth, ("healthy_streak",), "true"),
        (OrderStatus, ("state",), '"reopened"'),
        (NotificationReceipt, ("call_outcome",), '"hung_up"'),
    ],
)
def test_no_silent_coercion_of_other_types(
    examples: dict[type[Event], Event], schema: type[Event], path: tuple[str, ...], raw: str
) -> None:
    err = _decode_error(schema, _json_with(examples[schema], path, raw))
    assert err.reason is DeadLetterReason.SCHEMA
    assert path[0] in err.detail


def test_the_auto_disposal_plan_is_closed_and_frozen_too(
    examples: dict[type[Event], Event],
) -> None:
    order = examples[DispatchOrder]
    assert isinstance(order, DispatchOrder) and order.auto_disposal is not None
    err = _decode_error(DispatchOrder, _json_with(order, ("auto_disposal", "unexpected"), "1"))
    assert err.reason is DeadLetterReason.SCHEMA
    assert "auto_disposal" in err.detail and "unexpected" in err.detail
    with pytest.raises(ValidationError, match="frozen"):
        order.auto_disposal.healthy_readings = 9  # type: ignore[misc]
