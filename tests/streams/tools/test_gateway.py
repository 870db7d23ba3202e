"""A gateway's uploads (tools/gateway.py): every reading once, in order, one partition a batch."""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import DepartmentEvent, Event, ReadingBatch, SensorReading
from schemas.codec import encode
from streams.runtime.partitioning import partition_of
from streams.tools.gateway import Batcher, batch_size, batched

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def reading(i: int, sensor: str, place: str, seconds: float) -> SensorReading:
    return SensorReading(
        reading_id=f"r{i:03d}",
        sensor_id=sensor,
        sensor_kind="gas_lel",
        place_id=place,
        value=1.0,
        event_time=T0 + timedelta(seconds=seconds),
    )


@st.composite
def feeds(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(0, 200))
    t = 0.0
    out: list[Event] = []
    for i in range(n):
        t += draw(st.floats(0, 90))
        if draw(st.integers(0, 9)) == 0:
            out.append(
                DepartmentEvent(
                    event_id=f"e{i}",
                    department="fire",
                    event_type="x",
                    place_id="site.a",
                    event_time=T0 + timedelta(seconds=t),
                )
            )
            continue
        place = draw(st.sampled_from(["site.a", "site.b", "cell.c"]))
        sensor = f"{place}-s{draw(st.integers(0, 6))}"
        out.append(reading(i, sensor, place, t))
    return out


@settings(max_examples=80, deadline=None)
@given(
    events=feeds(),
    partitions=st.integers(1, 4),
    size=st.integers(1, 20),
    window=st.sampled_from([30.0, 300.0, 1e9]),
)
def test_every_reading_goes_once_in_its_sensors_order_and_each_batch_in_one_partition(
    events: list[Event], partitions: int, size: int, window: float
) -> None:
    g = Batcher(partitions, size, window_s=window)
    sent = [ready for e in events for ready in g.add(e)] + g.flush()
    readings = [e for e in events if isinstance(e, SensorReading)]
    batches = [e for e in sent if isinstance(e, ReadingBatch)]
    others = [e for e in sent if not isinstance(e, ReadingBatch)]
    assert others == [e for e in events if not isinstance(e, SensorReading)]
    carried = [r for b in batches for r in b.readings]
    assert sorted(r.reading_id for r in carried) == sorted(r.reading_id for r in readings)
    per_sensor: dict[str, list[str]] = defaultdict(list)
    for r in carried:
        per_sensor[r.sensor_id].append(r.reading_id)
    for sensor, ids in per_sensor.items():
        assert ids == [r.reading_id for r in readings if r.sensor_id == sensor]
    for b in batches:
        assert 1 <= len(b.readings) <= size
        home = partition_of(b.sensor_group.encode(), partitions)
        assert {partition_of(r.sensor_id.encode(), partitions) for r in b.readings} == {home}
        assert b.gateway_id == "yujing-tools"
        span = (b.readings[-1].event_time - b.readings[0].event_time).total_seconds()
        assert span < window
        assert b.event_time == max(r.event_time for r in b.readings)
    assert len({b.batch_id for b in batches}) == len(batches)


def test_an_upload_stays_within_its_byte_bound() -> None:
    one = len(encode(reading(0, "s", "site.a", 0)))
    g = Batcher(1, 500, max_bytes=10 * one)
    sent = batched([reading(i, "s", "site.a", i) for i in range(35)], 1, 500)
    assert [len(b.readings) for b in sent] == [35]  # type: ignore[attr-defined]
    sent = [r for i in range(35) for r in g.add(reading(i, "s", "site.a", i))] + g.flush()
    assert [len(b.readings) for b in sent] == [10, 10, 10, 5]  # type: ignore[attr-defined]


def test_batch_sizes_are_bounded() -> None:
    assert batch_size("0") == 0 and batch_size("500") == 500
    for bad in ("501", "-1", "many"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"1\.\.500"):
            batch_size(bad)
    with pytest.raises(ValueError, match=r"1\.\.500"):
        Batcher(2, 0)
