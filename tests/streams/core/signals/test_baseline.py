"""Baselines: history learnt by the detection core gives the same state as living it."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import DepartmentEvent, SensorReading
from streams.core.shared.catalogue import load_catalogue
from streams.core.shared.config import ConfigError
from streams.core.signals import baseline
from streams.core.signals.detect import Detection
from streams.core.signals.detectors import Point, Record
from streams.core.signals.live import IDS, SEEN

T0 = datetime(2026, 2, 1, tzinfo=UTC)
DETECTION = Detection(load_catalogue())


def readings(kind: str, values: list[float], every_min: int = 30) -> list[SensorReading]:
    return [
        SensorReading(
            reading_id=f"r{i}",
            sensor_id="s-1",
            sensor_kind=kind,
            place_id="p-1",
            value=v,
            event_time=T0 + timedelta(minutes=every_min * i),
        )
        for i, v in enumerate(values)
    ]


def as_point(r: SensorReading) -> Point:
    return Point(r.event_time, r.value, {}, r.reading_id)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["gas_flow_m3h", "drain_level_cm", "gas_lel", "hydrant_pressure_mpa"]),
    values=st.lists(st.floats(min_value=-50, max_value=500), min_size=1, max_size=150),
)
def test_learning_a_history_leaves_the_state_living_it_would(
    kind: str, values: list[float]
) -> None:
    lived = None
    for r in readings(kind, values):
        lived = DETECTION.observe_reading(r, lived, r.event_time).state
    learnt = baseline.learn_sensor(DETECTION, kind, [as_point(r) for r in readings(kind, values)])
    # the same detectors and triggers; no re-checks (no order ever watches history), and
    # no memory of recent reading ids nor of the last one seen (learnt, not lived)
    expected = {
        rp: {k: v for k, v in e.items() if k != "c"}
        for rp, e in json.loads(lived or "{}").items()
        if rp not in (IDS, SEEN)
    }
    assert learnt is not None and json.loads(learnt) == expected


def test_a_place_learns_its_record_rates_and_an_unwatched_kind_has_none() -> None:
    recs = [
        DepartmentEvent(
            event_id=f"e{i}",
            department="fire",
            event_type="fire_exit_blocked_report",
            place_id="p-1",
            event_time=T0 + timedelta(days=7 * i),
        )
        for i in range(10)
    ]
    lived = None
    for e in recs:
        lived = DETECTION.observe_record(e, lived, e.event_time).state
    learnt = baseline.learn_place(
        DETECTION,
        [Record(e.event_time, e.department, e.event_type, {}, e.event_id) for e in recs],
    )
    lived_detectors = {k: v for k, v in json.loads(lived or "{}").items() if k != IDS}
    assert learnt is not None and json.loads(learnt) == lived_detectors
    assert baseline.learn_sensor(DETECTION, "no_such_kind", []) is None
    assert baseline.learn_place(DETECTION, []) is None


def test_a_warm_baseline_judges_at_once_where_a_cold_start_cannot() -> None:
    # three days of gas use every 30 minutes: the catalogue's likelihood detector judges
    # after 96 readings over two days
    rng = random.Random(5)
    history = [3.0 + 2.0 * math.cos(2 * math.pi * i / 48) + rng.gauss(0.0, 0.3) for i in range(144)]
    warm = baseline.learn_sensor(
        DETECTION, "gas_flow_m3h", [as_point(r) for r in readings("gas_flow_m3h", history)]
    )
    day = T0 + timedelta(days=3)
    burst = [
        SensorReading(
            reading_id=f"d{i}",
            sensor_id="s-1",
            sensor_kind="gas_flow_m3h",
            place_id="p-1",
            value=40.0,
            event_time=day + timedelta(minutes=30 * i),
        )
        for i in range(3)
    ]
    for start, expect in ((warm, True), (None, False)):
        state, fired = start, False
        for r in burst:
            seen = DETECTION.observe_reading(r, state, r.event_time)
            state, fired = seen.state, fired or bool(seen.signals)
        assert fired is expect


def test_a_file_round_trips_and_a_bad_one_names_the_file_and_the_field(tmp_path: Path) -> None:
    b = baseline.Baselines({"s-1": '{"x":1}'}, {"p-1": "{}"}, T0)
    path = tmp_path / "b.json"
    baseline.write(path, b)
    assert baseline.load(path) == b
    assert baseline.load(None) is baseline.NONE
    path.write_text(json.dumps({"version": 1, "sensors": {"s-1": 3}}))
    with pytest.raises(ConfigError, match=r"b\.json: sensors\.s-1: expected a state"):
        baseline.load(path)
    path.write_text("{nope")
    with pytest.raises(ConfigError, match=r"b\.json: not JSON"):
        baseline.load(path)
    with pytest.raises(ConfigError, match="cannot read baselines"):
        baseline.load(tmp_path / "missing.json")
