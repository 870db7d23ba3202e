"""How ``yujing bench`` times the pipeline (benchmarks/e2e.py): from the first reading
processed to the last, by the orders of alarms whose place in the feed is known."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from benchmarks.e2e import Mode, percentiles, processing_rate
from benchmarks.feed import Feed
from schemas import ReadingBatch, SensorReading
from schemas.codec import decode
from streams.runtime.partitioning import partition_of


def test_the_rate_is_the_readings_between_the_first_and_last_alarm_over_their_time() -> None:
    feed = Feed("t", 0.01)
    for _ in range(1000):
        feed.reading(datetime.now(UTC))
    places = sorted(feed.alarm_index, key=feed.alarm_index.get)  # type: ignore[arg-type]
    assert [feed.alarm_index[p] for p in places[:2]] == [99, 199]
    # one order per alarm, 10 ms per 100 readings: 10,000 readings/s; the backlog's
    # writing and the workers' start (before the first order) are not in the span
    times = {p: 5_000 + 10 * i for i, p in enumerate(places)}
    assert processing_rate(feed, times) == pytest.approx(10_000)
    with pytest.raises(RuntimeError, match="too few"):
        processing_rate(feed, {places[0]: 1})


def test_batches_and_singles_carry_the_same_readings() -> None:
    singles = Mode("single", 1).records(Feed("s", 0.01), 2_000, 2)
    batches = Mode("batch", 500).records(Feed("s", 0.01), 2_000, 2)
    one = [decode(SensorReading, v).reading_id for _, v in singles]
    parts = [decode(ReadingBatch, v, max_bytes=1 << 20) for _, v in batches]
    assert sorted(one) == sorted(r.reading_id for b in parts for r in b.readings)
    assert all(len(b.readings) <= 500 for b in parts) and len(parts) >= 4
    for key, _ in batches:  # each record lands in its sensors' partition
        b = next(b for b in parts if b.sensor_group.encode() == key)
        assert {partition_of(r.sensor_id.encode(), 2) for r in b.readings} == {partition_of(key, 2)}


def test_percentiles_need_samples() -> None:
    assert percentiles([])["n"] == 0
    p = percentiles([float(i) for i in range(1, 1001)])
    assert (p["n"], round(p["p50"]), round(p["p99"])) == (1000, 500, 990)
