"""decode() turns any bytes into a valid event or a classified DecodeError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import RiskSignal, SensorReading
from schemas.base import Event
from schemas.codec import DEFAULT_MAX_BYTES, DecodeError, decode, encode
from schemas.dead_letter import DeadLetterReason
from schemas.registry import TOPICS

SCHEMAS = [spec.schema for spec in TOPICS.values()]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _error(schema: type[Event], data: bytes | None, **kw: Any) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode(schema, data, **kw)
    return info.value


@pytest.mark.parametrize(
    "data", [b"{oops", b"", b"   ", b"[1,", b"nul", b"\xff\xfe\x00", b'{"a": 1}}', b"{'a': 1}"]
)
def test_bytes_that_are_not_json_are_classified_not_json(data: bytes) -> None:
    err = _error(SensorReading, data)
    assert err.reason is DeadLetterReason.NOT_JSON
    assert err.detail
    assert str(err).startswith("not_json: ")


def test_a_null_message_is_not_json() -> None:
    err = _error(SensorReading, None)
    assert err.reason is DeadLetterReason.NOT_JSON
    assert "null" in err.detail


def test_decode_error_is_a_value_error_carrying_reason_and_detail() -> None:
    err = _error(SensorReading, b"{oops")
    assert isinstance(err, ValueError)
    assert str(err) == f"{err.reason.value}: {err.detail}"


def test_an_oversized_message_is_too_large_before_it_is_parsed() -> None:
    # Not JSON at all, yet reported as too large: the size is checked first.
    data = b"{" * (DEFAULT_MAX_BYTES + 1)
    err = _error(SensorReading, data)
    assert err.reason is DeadLetterReason.TOO_LARGE
    assert str(DEFAULT_MAX_BYTES + 1) in err.detail
    assert str(DEFAULT_MAX_BYTES) in err.detail


def test_max_bytes_is_an_inclusive_limit(examples: dict[type[Event], Event]) -> None:
    data = encode(examples[SensorReading])
    assert decode(SensorReading, data, max_bytes=len(data)) == examples[SensorReading]
    err = _error(SensorReading, data, max_bytes=len(data) - 1)
    assert err.reason is DeadLetterReason.TOO_LARGE


def test_a_valid_event_padded_past_the_limit_is_too_large(
    examples: dict[type[Event], Event],
) -> None:
    data = encode(examples[SensorReading])
    padded = data + b" " * (DEFAULT_MAX_BYTES - len(data) + 1)
    assert json.loads(padded)  # still perfectly valid JSON
    assert _error(SensorReading, padded).reason is DeadLetterReason.TOO_LARGE


@pytest.mark.parametrize("data", [b"[]", b'"reading"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_a_schema_error(data: bytes) -> None:
    err = _error(SensorReading, data)
    assert err.reason is DeadLetterReason.SCHEMA
    assert err.detail.startswith("SensorReading: ")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sensor_id", None),
        ("sensor_id", ""),
        ("sensor_id", "has space"),
        ("sensor_kind", "Gas LEL"),
        ("value", "12.5"),
        ("value", [1.0]),
        ("unit", "x" * 17),
    ],
)
def test_a_schema_violation_names_the_field(
    examples: dict[type[Event], Event], field: str, value: object
) -> None:
    doc = examples[SensorReading].model_dump(mode="json") | {field: value}
    err = _error(SensorReading, json.dumps(doc).encode())
    assert err.reason is DeadLetterReason.SCHEMA
    assert err.detail.startswith("SensorReading: ")
    assert f"{field}: " in err.detail


def test_a_missing_field_is_named(examples: dict[type[Event], Event]) -> None:
    doc = examples[SensorReading].model_dump(mode="json")
    del doc["reading_id"]
    err = _error(SensorReading, json.dumps(doc).encode())
    assert err.reason is DeadLetterReason.SCHEMA
    assert "reading_id: Field required" in err.detail


def test_nested_locations_are_dotted(examples: dict[type[Event], Event]) -> None:
    doc = examples[RiskSignal].model_dump(mode="json")
    doc["indicators"]["gas_lel"] = "high"
    doc["source_event_ids"] = ["ok", "not ok"]
    err = _error(RiskSignal, json.dumps(doc).encode())
    assert "indicators.gas_lel: " in err.detail
    assert "source_event_ids.1: " in err.detail


def test_many_errors_are_summarised() -> None:
    err = _error(RiskSignal, b"{}")
    required = [n for n, f in RiskSignal.model_fields.items() if f.is_required()]
    assert len(required) > 8
    assert err.detail.count("Field required") == 8
    assert f"... and {len(required) - 8} more" in err.detail


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_decode_error(schema: type[Event], data: bytes) -> None:
    try:
        event = decode(schema, data)
    except DecodeError as err:
        assert err.reason in {DeadLetterReason.NOT_JSON, DeadLetterReason.SCHEMA}
    else:  # pragma: no cover - astronomically unlikely, but then it must be valid
        assert isinstance(event, schema)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
@settings(max_examples=40, deadline=None)
@given(value=json_values)
def test_arbitrary_json_is_a_schema_error(schema: type[Event], value: object) -> None:
    with pytest.raises(DecodeError) as info:
        decode(schema, json.dumps(value).encode())
    assert info.value.reason is DeadLetterReason.SCHEMA


@pytest.mark.parametrize("topic", sorted(TOPICS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_replacing_one_field_either_decodes_or_names_that_field(
    examples: dict[type[Event], Event], topic: str, data: st.DataObject
) -> None:
    schema = TOPICS[topic].schema
    doc = examples[schema].model_dump(mode="json")
    field = data.draw(st.sampled_from(sorted(doc)), label="field")
    doc[field] = data.draw(json_values, label="value")
    try:
        event = decode(schema, json.dumps(doc).encode())
    except DecodeError as err:
        assert err.reason is DeadLetterReason.SCHEMA
        assert f"{field}" in err.detail
    else:
        assert getattr(event, field) is not None or doc[field] is None
        assert decode(schema, encode(event)) == event
