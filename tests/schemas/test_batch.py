"""Gateway batches (schemas/batch.py) and their item-by-item decoding (codec.decode_items)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas import DeadLetterReason, ReadingBatch, SensorReading
from schemas.batch import MAX_READINGS
from schemas.codec import DecodeError, decode_items, encode
from schemas.registry import READING_BATCHES

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def reading(i: int, sensor: str = "s1") -> dict[str, Any]:
    r = SensorReading(
        reading_id=f"r{i}",
        sensor_id=sensor,
        sensor_kind="gas_lel",
        place_id="site.a",
        value=float(i),
        event_time=T0 + timedelta(seconds=i),
    )
    return json.loads(encode(r))


def batch(items: list[Any], **over: Any) -> bytes:
    doc = {
        "batch_id": "b1",
        "gateway_id": "gw-1",
        "sensor_group": "s1",
        "event_time": (T0 + timedelta(minutes=1)).isoformat(),
        "readings": items,
        **over,
    }
    return json.dumps(doc).encode()


def decode(data: bytes, **kw: Any) -> tuple[ReadingBatch | None, list[Any]]:
    return decode_items(ReadingBatch, data, "readings", max_bytes=1 << 20, **kw)


def test_a_good_batch_decodes_whole_and_is_keyed_by_its_sensor_group() -> None:
    got, bad = decode(batch([reading(i) for i in range(3)]))
    assert bad == [] and got is not None
    assert [r.reading_id for r in got.readings] == ["r0", "r1", "r2"]
    assert READING_BATCHES.key_of(got) == b"s1"
    assert READING_BATCHES.items == "readings"


def test_a_bad_reading_is_refused_alone_with_its_index_and_bytes() -> None:
    broken = {**reading(1), "value": "high"}
    got, bad = decode(batch([reading(0), broken, reading(2), {"oops": 1}]))
    assert got is not None
    assert [r.reading_id for r in got.readings] == ["r0", "r2"]
    assert [b.index for b in bad] == [1, 3]
    assert all(b.error.reason is DeadLetterReason.SCHEMA for b in bad)
    assert bad[0].error.detail.startswith("readings[1]: SensorReading: value")
    assert json.loads(bad[0].raw) == broken  # the item's own JSON, to fix and send again
    assert (got.batch_id, got.gateway_id) == ("b1", "gw-1")


def test_a_batch_of_bad_readings_only_leaves_nothing_to_process() -> None:
    got, bad = decode(batch([{"x": 1}, {"y": 2}]))
    assert got is None and [b.index for b in bad] == [0, 1]


@pytest.mark.parametrize(
    ("data", "reason", "needle"),
    [
        (batch([]), DeadLetterReason.SCHEMA, "readings"),
        (batch([reading(0)] * (MAX_READINGS + 1)), DeadLetterReason.SCHEMA, "readings"),
        (batch([reading(0)], gateway_id=""), DeadLetterReason.SCHEMA, "gateway_id"),
        (batch([reading(0)], extra=1), DeadLetterReason.SCHEMA, "extra"),
        (batch([{"x": 1}], sensor_group=None), DeadLetterReason.SCHEMA, "sensor_group"),
        (b'{"batch_id": ', DeadLetterReason.NOT_JSON, "JSON"),
        (None, DeadLetterReason.NOT_JSON, "null"),
    ],
)
def test_what_is_wrong_outside_the_readings_refuses_the_whole_record(
    data: bytes | None, reason: DeadLetterReason, needle: str
) -> None:
    with pytest.raises(DecodeError) as err:
        decode(data)  # type: ignore[arg-type]
    assert err.value.reason is reason and needle in err.value.detail


def test_a_record_over_the_bound_is_too_large_unread() -> None:
    data = batch([reading(i) for i in range(50)])
    with pytest.raises(DecodeError) as err:
        decode_items(ReadingBatch, data, "readings", max_bytes=len(data) - 1)
    assert err.value.reason is DeadLetterReason.TOO_LARGE


def test_a_check_refuses_valid_readings_alone_on_both_paths() -> None:
    def odd_out(r: SensorReading) -> DecodeError | None:
        ok = int(r.value) % 2 == 0
        return None if ok else DecodeError(DeadLetterReason.WRONG_KEY, f"{r.sensor_id} elsewhere")

    got, bad = decode(batch([reading(i) for i in range(4)]), check=odd_out)  # all valid
    assert got is not None and [r.reading_id for r in got.readings] == ["r0", "r2"]
    assert [(b.index, b.error.reason.value) for b in bad] == [(1, "wrong_key"), (3, "wrong_key")]
    assert bad[0].error.detail == "readings[1]: s1 elsewhere"
    got, bad = decode(batch([reading(0), {"x": 1}, reading(3)]), check=odd_out)  # one invalid
    assert got is not None and [r.reading_id for r in got.readings] == ["r0"]
    assert [(b.index, b.error.reason.value) for b in bad] == [(1, "schema"), (2, "wrong_key")]
