"""The machine re-check of auto-disposal (streams.core.signals.recheck), without a broker.

Checks begin at an alarm, judge later observations with the detector's own
re-check, and report verdicts to the orders that watch them: a sensor after N
healthy readings in a row, a place while no record since the order was judged
unhealthy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from incidents import incident, until_alarm

from schemas import (
    AutoDisposalPlan,
    DepartmentEvent,
    DispatchOrder,
    DisposalWatch,
    PlaceWatch,
    SensorHealth,
    SensorReading,
    SlaClass,
)
from streams.core.shared.catalogue import RiskPoint, load_catalogue
from streams.core.signals import recheck as disposal
from streams.core.signals.detect import Detection
from streams.core.signals.detectors import Point, Record

CATALOGUE = load_catalogue()
RIVER = CATALOGUE.risk_point("river_level_high")  # threshold: upper 4.5, clear 4.2
COMPLAINTS = CATALOGUE.risk_point("construction_complaints")  # rate: daily window
T0 = datetime(2026, 3, 1, tzinfo=UTC)
NOW = T0 + timedelta(seconds=5)
HOUR = timedelta(hours=1)


def judge(rp: RiskPoint) -> disposal.Judge:
    return disposal.Judge(rp.detector.cls, rp.detector.params, 0, rp.make_trigger())


def river_point(i: int, value: float) -> Point:
    return Point(t=T0 + timedelta(minutes=i), value=value, event_id=f"r{i}")


def river_alarm() -> list[disposal.Check]:
    return disposal.begin(None, judge(RIVER), {}, river_point(0, 4.8))


def attach(
    checks: list[disposal.Check],
    rp: RiskPoint = RIVER,
    order: str = "o1",
    quiet_from: datetime = T0,
    since: datetime | None = T0,
    now: datetime = NOW,
) -> tuple[list[disposal.Check], list[SensorHealth]]:
    return disposal.attach(checks, judge(rp), order, "s1", 3, quiet_from, T0 + HOUR, since, now)


@settings(max_examples=200)
@given(
    values=st.lists(st.floats(min_value=3.0, max_value=5.0), max_size=30),
    attach_at=st.integers(min_value=0, max_value=30),
)
def test_a_sensor_is_recovered_after_n_healthy_readings_in_a_row(
    values: list[float], attach_at: int
) -> None:
    """Property: the last verdict the order hears is 'the last 3 readings were at or below
    clear', whenever after the alarm the order's watch arrives; verdicts alternate."""
    j = judge(RIVER)
    checks = river_alarm()
    verdict, heard = False, []
    for i, v in enumerate([*values, None]):
        if i == min(attach_at, len(values)):
            checks, events = attach(checks)
            heard += events
        if v is None:
            break
        checks, events = disposal.observe(checks, j, river_point(i + 1, v), "s1", NOW)
        heard += events
    for e in heard:
        assert e.recovered != verdict, "each verdict is a change"
        verdict = e.recovered
    tail = values[-3:]
    assert verdict == (len(tail) == 3 and all(v <= 4.2 for v in tail))
    assert all(e.order_id == "o1" and e.sensor_id == "s1" and e.watched == "sensor" for e in heard)


@settings(max_examples=200)
@given(
    gaps=st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=8),
    healthy=st.lists(st.booleans(), min_size=8, max_size=8),
    healthy_for_min=st.integers(min_value=1, max_value=60),
)
def test_a_sensor_on_a_slow_heartbeat_is_recovered_once_healthy_for_the_set_time(
    gaps: list[int], healthy: list[bool], healthy_for_min: int
) -> None:
    """Property: with ``healthy_for`` set, the verdict after each reading is '3 healthy in a
    row, or the latest healthy and at least that long after the last unhealthy reading (or
    the alarm)' — one reading can do it, none cannot."""
    j = judge(RIVER)
    checks = river_alarm()
    checks, heard = disposal.attach(
        checks, j, "o1", "s1", 3, T0, T0 + 24 * HOUR, T0, NOW, healthy_for_min * 60.0
    )
    assert heard == []  # attached before any reading after the alarm: not recovered
    minute, bad_at, streak, verdict = 0, 0, 0, False
    for gap, ok in zip(gaps, healthy, strict=False):
        minute += gap
        checks, events = disposal.observe(
            checks, j, river_point(minute, 4.0 if ok else 4.6), "s1", NOW
        )
        streak = streak + 1 if ok else 0
        bad_at = bad_at if ok else minute
        expected = streak >= 3 or (streak >= 1 and minute - bad_at >= healthy_for_min)
        for e in events:
            assert e.recovered != verdict, "each verdict is a change"
            verdict = e.recovered
        assert verdict == expected


def test_without_healthy_for_one_late_healthy_reading_is_not_enough() -> None:
    j = judge(RIVER)
    checks, _ = attach(river_alarm())
    checks, events = disposal.observe(checks, j, river_point(60, 4.0), "s1", NOW)
    assert events == []  # one reading an hour after the alarm: 1 of 3


def complaints_alarm() -> tuple[list[disposal.Check], Record]:
    """A place with a complaint every day or two, then a burst that raised the alarm."""
    cls, params = COMPLAINTS.detector.cls, COMPLAINTS.detector.params
    inc = incident(cls, params)
    det = cls.from_params(params)
    for x, fired in until_alarm(det, COMPLAINTS.make_trigger(), inc):
        if fired:
            return disposal.begin(None, judge(COMPLAINTS), det.state(), x), x
    raise AssertionError("no alarm")


@settings(max_examples=150, deadline=None)
@given(
    offsets_s=st.lists(st.integers(min_value=-3600, max_value=3600), max_size=12),
    quiet_after_s=st.integers(min_value=0, max_value=1800),
    attach_at=st.integers(min_value=0, max_value=12),
)
def test_a_place_is_recovered_while_no_record_since_the_order_was_judged_unhealthy(
    offsets_s: list[int], quiet_after_s: int, attach_at: int
) -> None:
    """Property, on event time: more complaints in the burst's day are each unhealthy; the
    place has recovered iff none of them came (by event time) after the order was made.
    Records from before the alarm (late ones) are not judged at all."""
    base, alarm = complaints_alarm()
    j = judge(COMPLAINTS)
    quiet_from = alarm.t + timedelta(seconds=quiet_after_s)
    checks, verdict = base, False
    for i, off in enumerate([*offsets_s, None]):
        if i == min(attach_at, len(offsets_s)):
            checks, events = attach(checks, COMPLAINTS, quiet_from=quiet_from, since=alarm.t)
            verdict = events[-1].recovered if events else verdict
        if off is None:
            break
        x = Record(alarm.t + timedelta(seconds=off), "d", "construction_complaint", {}, f"c{i}")
        checks, events = disposal.observe(checks, j, x, "site-1", NOW)
        verdict = events[-1].recovered if events else verdict
        assert all(e.watched == "place" and e.sensor_id == "site-1" for e in events)
    stopped = not any(
        off > 0 and alarm.t + timedelta(seconds=off) >= quiet_from for off in offsets_s
    )
    assert verdict == stopped


def test_a_watch_that_arrives_after_recovery_hears_it_at_once_and_replays_change_nothing() -> None:
    j = judge(RIVER)
    checks = river_alarm()
    for i in range(1, 4):
        checks, events = disposal.observe(checks, j, river_point(i, 4.0), "s1", NOW)
        assert events == []  # nobody watches yet
    checks, events = attach(checks)
    assert [(e.recovered, e.healthy_streak, e.reading_id) for e in events] == [(True, 3, "r3")]
    again, events = attach(checks)
    assert again == checks and events == []


def test_a_watch_attaches_to_its_own_alarm() -> None:
    j = judge(RIVER)
    first = river_alarm()
    # healthy readings, then a second alarm at minute 10
    for i in range(1, 5):
        first, _ = disposal.observe(first, j, river_point(i, 4.0), "s1", NOW)
    second = disposal.begin(first, j, {}, river_point(10, 4.9))
    assert [c["t"] for c in second] == [T0.timestamp(), (T0 + timedelta(minutes=10)).timestamp()]
    # the order of the first alarm is recovered; one of the second is not (yet)
    _, old = attach(second, since=T0)
    _, new = attach(second, order="o2", since=T0 + timedelta(minutes=10))
    assert [e.recovered for e in old] == [True] and new == []
    # no check for its alarm (e.g. lost state): nothing attaches, the order will escalate
    none, events = attach(second, since=T0 + timedelta(minutes=3))
    assert none == second and events == []
    assert attach([], since=None) == ([], [])
    # a replayed alarm begins nothing new
    assert disposal.begin(second, j, {}, river_point(10, 4.9)) == second


def test_a_late_reading_from_before_the_alarm_is_not_judged() -> None:
    j = judge(RIVER)
    checks, _ = attach(river_alarm())
    late = Point(t=T0 - timedelta(minutes=1), value=4.0, event_id="late")
    after, events = disposal.observe(checks, j, late, "s1", NOW)
    assert events == [] and after[0]["n"] == 0


def test_checks_end_with_their_last_watch_or_a_day_after_an_unwatched_alarm() -> None:
    j = judge(RIVER)
    watched, _ = attach(river_alarm())
    past = T0 + 2 * HOUR  # past the watch's until: its order has been decided
    assert disposal.observe(watched, j, river_point(1, 4.0), "s1", past) == ([], [])
    unwatched = river_alarm()
    soon, _ = disposal.observe(unwatched, j, river_point(60, 4.0), "s1", NOW)
    assert len(soon) == 1
    day = Point(t=T0 + timedelta(seconds=disposal.UNWATCHED_S + 1), value=4.0)
    assert disposal.observe(unwatched, j, day, "s1", NOW) == ([], [])
    # a watch whose re-check time has passed attaches to nothing
    assert attach(river_alarm(), now=T0 + 2 * HOUR)[1] == []


def test_a_stream_that_keeps_alarming_keeps_its_newest_checks_and_every_watched_one() -> None:
    j = judge(RIVER)
    checks, _ = attach(river_alarm())
    for i in range(1, 10):
        checks = disposal.begin(checks, j, {}, river_point(10 * i, 4.9))
    assert len(checks) == disposal.MAX_CHECKS
    assert checks[0]["t"] == T0.timestamp() and "o1" in checks[0]["w"]
    assert checks[-1]["t"] == (T0 + timedelta(minutes=90)).timestamp()


def order_for(rp: RiskPoint) -> DispatchOrder:
    plan = AutoDisposalPlan(
        party_concerned="site_contact",
        sensor_ids=["subject-7"],
        risk_point=rp.id,
        healthy_readings=3,
        healthy_for_s=900.0,
        recheck_at=NOW + HOUR,
        place_id="site-7",
        since=T0,
    )
    return DispatchOrder(
        order_id="o1", alert_id="a1", route="default", receiver="town_duty_office",
        assignee_role="town_street", channels=[], sla_class=SlaClass.NON_EMERGENCY, deadlines={},
        summary="s", escalate_to="town_duty_office", auto_disposal=plan, event_time=NOW,
    )  # fmt: skip


def test_the_order_side_asks_for_sensors_or_for_the_place() -> None:
    (sensor,) = disposal.watch_requests(order_for(RIVER), False, NOW)
    assert isinstance(sensor, DisposalWatch) and disposal.watched_key(sensor) == "subject-7"
    assert (sensor.since, sensor.until, sensor.healthy_readings) == (T0, NOW + HOUR, 3)
    assert sensor.healthy_for_s == 900.0  # the plan's, carried to the watched side
    (place,) = disposal.watch_requests(order_for(COMPLAINTS), True, NOW)
    assert isinstance(place, PlaceWatch) and disposal.watched_key(place) == "site-7"
    # the party has the first half of the re-check delay to act; then the records must be quiet
    assert (place.since, place.quiet_from, place.until) == (T0, NOW + HOUR / 2, NOW + HOUR)


# -- through Detection: the re-check lives in the key's detector state --------------------


def reading(i: int, value: float, sensor: str = "river-1") -> SensorReading:
    return SensorReading(
        reading_id=f"{sensor}-{i}", sensor_id=sensor, sensor_kind="river_level_m",
        place_id="bank-1", value=value, event_time=T0 + timedelta(minutes=i),
    )  # fmt: skip


def test_detection_begins_a_check_only_for_auto_disposable_points() -> None:
    import json

    detection = Detection(CATALOGUE)
    state, signals = detection.on_reading(reading(0, 4.8), None, NOW)
    assert [s.risk_point for s in signals] == ["river_level_high"]
    assert [c["t"] for c in json.loads(state)["river_level_high"]["c"]] == [T0.timestamp()]
    gas = SensorReading(
        reading_id="g1", sensor_id="gas-1", sensor_kind="gas_lel", place_id="r",
        value=30.0, event_time=T0,
    )  # fmt: skip
    gas_state, gas_signals = detection.on_reading(gas, None, NOW)
    assert gas_signals and "c" not in json.loads(gas_state)["restaurant_gas_leak"]  # a person


def test_detection_attaches_watches_and_reports_verdicts_on_readings() -> None:
    detection = Detection(CATALOGUE)
    seen = detection.observe_reading(reading(0, 4.8), None, NOW)
    (signal,) = seen.signals
    req = DisposalWatch(
        watch_id="w1", sensor_id="river-1", order_id="o1", risk_point=RIVER.id,
        healthy_readings=3, until=NOW + HOUR, since=signal.event_time, event_time=NOW,
    )  # fmt: skip
    state, events = detection.attach(req, seen.state, NOW)
    assert state is not None and events == []
    assert detection.attach(req, state, NOW) == (None, [])  # a replayed request
    heard: list[Any] = []
    for i, v in enumerate([4.1, 4.0, 4.4, 4.0, 4.1, 3.9], start=1):
        seen = detection.observe_reading(reading(i, v), state, NOW)
        state = seen.state
        heard += [(e.recovered, e.reading_id) for e in seen.health]
    assert heard == [(True, "river-1-6")]
    other = DisposalWatch(**{**req.model_dump(), "risk_point": "cable_overheat"})
    assert detection.attach(other, state, NOW) == (None, [])  # no alarm of that point here


def test_detection_passes_a_heartbeat_device_on_its_next_healthy_heartbeat() -> None:
    """A river gauge reporting hourly: the alarm, then one healthy heartbeat an hour later.
    Healthy for 15 minutes, it has recovered; asking for 3 readings alone, it has not."""
    for healthy_for, expected in ((900.0, [(True, "river-1-60")]), (None, [])):
        detection = Detection(CATALOGUE)
        seen = detection.observe_reading(reading(0, 4.8), None, NOW)
        req = DisposalWatch(
            watch_id="w1", sensor_id="river-1", order_id="o1", risk_point=RIVER.id,
            healthy_readings=3, healthy_for_s=healthy_for, until=NOW + 2 * HOUR,
            since=seen.signals[0].event_time, event_time=NOW,
        )  # fmt: skip
        state, _ = detection.attach(req, seen.state, NOW)
        later = detection.observe_reading(reading(60, 3.7), state, NOW)
        assert [(e.recovered, e.reading_id) for e in later.health] == expected


def test_detection_judges_a_place_from_its_department_records() -> None:
    detection = Detection(CATALOGUE)
    inc = incident(COMPLAINTS.detector.cls, COMPLAINTS.detector.params)

    def event(x: Record) -> DepartmentEvent:
        return DepartmentEvent(
            event_id=x.event_id, department="urban_management",
            event_type="construction_complaint", place_id="site-1", subject_id="firm-9",
            event_time=x.t,
        )  # fmt: skip

    state, alarm = None, None
    for x in [*inc.history, *inc.onset]:
        seen = detection.observe_record(event(x), state, NOW)
        state = seen.state
        if seen.signals:
            alarm = seen.signals[0]
            break
    assert alarm is not None and alarm.source_key == "firm-9" and alarm.place_id == "site-1"
    req = PlaceWatch(
        watch_id="w1", place_id="site-1", order_id="o1", risk_point=COMPLAINTS.id,
        quiet_from=alarm.event_time + timedelta(minutes=5), until=NOW + 48 * HOUR,
        since=alarm.event_time, event_time=NOW,
    )  # fmt: skip
    # one more complaint before the order: forgiven; the records then stop: recovered at once
    late = Record(alarm.event_time + timedelta(minutes=2), "d", "?", {}, "more-1")
    state = detection.observe_record(event(late), state, NOW).state
    state2, events = detection.attach(req, state, NOW)
    assert [(e.recovered, e.watched, e.sensor_id) for e in events] == [(True, "place", "site-1")]
    # another complaint after the order: the records did not stop
    again = Record(alarm.event_time + timedelta(minutes=30), "d", "?", {}, "more-2")
    seen = detection.observe_record(event(again), state2, NOW)
    assert [(e.recovered, e.reading_id) for e in seen.health] == [(False, "more-2")]


@pytest.mark.parametrize("rp", [RIVER, COMPLAINTS], ids=lambda rp: rp.id)
def test_a_watch_for_a_point_that_never_alarmed_here_attaches_nothing(rp: RiskPoint) -> None:
    detection = Detection(CATALOGUE)
    req = DisposalWatch(
        watch_id="w1", sensor_id="x", order_id="o1", risk_point=rp.id, healthy_readings=3,
        until=NOW + HOUR, event_time=NOW,
    )  # fmt: skip
    assert detection.attach(req, None, NOW) == (None, [])
