"""The dead-man's switch (streams.core.signals.silence): silence judged on the
partition's event time, once per silence, never while the sensor keeps its heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from streams.core.shared.catalogue import SilencePoint, load_catalogue
from streams.core.signals.silence import SIGNALLED, SilenceWatch

NOW = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = 3600.0
POINT = SilencePoint(
    id="alarm_silent",
    module="gas_safety",
    name="A gas alarm went quiet",
    heartbeats={"gas_lel": HOUR, "gas_regulator_station": 900.0},
    severity="medium",
)


def watch() -> SilenceWatch:
    return SilenceWatch({k: POINT for k in POINT.heartbeats})


def record(t: float, rid: str, kind: str = "gas_lel", place: str = "p1") -> list[object]:
    return [kind, place, t, rid, 0]


def test_a_sensor_silent_past_its_heartbeats_signals_once_from_its_last_reading() -> None:
    w = watch()
    w.seen("quiet", record(0.0, "q-0"))
    for h in range(1, 10):
        w.seen("busy", record(h * HOUR, f"b-{h}", place="p2"))
        due = w.due(NOW)
        if h <= 4:  # 4 heartbeats of silence: not yet (strictly more is needed)
            assert due == [], h
        elif h == 5:
            [(sensor, sig)] = due
            assert sensor == "quiet"
            assert sig.risk_point == "alarm_silent" and sig.module == "gas_safety"
            assert sig.detector_id == "silence.alarm_silent"
            assert sig.place_id == "p1" and sig.source_key == "quiet"
            assert sig.source_event_ids == ["q-0"]
            assert sig.event_time == datetime.fromtimestamp(5 * HOUR, UTC)
            assert sig.indicators["silent_s"] == 5 * HOUR
            assert sig.indicators["heartbeat_s"] == HOUR
            assert sig.severity == "medium" and not sig.emergency
        else:
            assert due == [], h  # once per silence


def test_the_same_silence_gives_the_same_signal_id_on_another_watch() -> None:
    ids = []
    for _ in range(2):  # a replay after a restart: another watch, the same readings
        w = watch()
        w.seen("quiet", record(0.0, "q-0"))
        w.seen("busy", record(6 * HOUR, "b-6"))
        ids += [sig.signal_id for _, sig in w.due(NOW)]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_a_new_silence_after_the_sensor_came_back_signals_again() -> None:
    w = watch()
    w.seen("s", record(0.0, "s-0"))
    w.seen("b", record(5 * HOUR, "b-5"))
    assert [sig.source_event_ids for _, sig in w.due(NOW)] == [["s-0"]]
    w.seen("s", record(6 * HOUR, "s-6"))  # back
    w.seen("b", record(8 * HOUR, "b-8"))
    assert w.due(NOW) == []
    w.seen("b", record(11 * HOUR, "b-11"))  # silent again, 5 h since s-6
    assert [sig.source_event_ids for _, sig in w.due(NOW)] == [["s-6"]]


def test_each_kind_has_its_own_heartbeat() -> None:
    w = watch()
    w.seen("station", record(0.0, "st-0", kind="gas_regulator_station"))
    w.seen("alarm", record(0.0, "al-0"))
    w.seen("other", record(3601.0, "o-1"))  # 4 station beats (15 min) but 1 alarm beat
    assert [s for s, _ in w.due(NOW)] == ["station"]


def test_a_late_older_reading_does_not_restart_the_silence() -> None:
    w = watch()
    w.seen("s", record(2 * HOUR, "s-2"))
    w.seen("s", record(1 * HOUR, "s-1"))  # late: the silence still runs from s-2
    w.tick(6.5 * HOUR)
    assert [sig.source_event_ids for _, sig in w.due(NOW)] == [["s-2"]]


def test_a_kind_without_a_switch_moves_the_clock_only() -> None:
    w = watch()
    w.seen("s", record(0.0, "s-0"))
    w.seen("meter", record(9 * HOUR, "m-9", kind="water_use_m3h"))
    assert len(w) == 1  # the meter is not watched
    assert [s for s, _ in w.due(NOW)] == ["s"]


def test_a_record_already_signalled_is_not_signalled_again_after_a_rebuild() -> None:
    w = watch()
    rec = record(0.0, "s-0")
    rec[SIGNALLED] = 1  # as the stored state keeps it once signalled
    w.seen("s", rec)
    w.tick(10 * HOUR)
    assert w.due(NOW) == []


def test_nothing_is_silent_without_event_time_passing() -> None:
    w = watch()
    w.seen("s", record(0.0, "s-0"))
    assert w.due(NOW) == []  # however late the wall clock: only readings move time


@given(
    gaps=st.lists(st.floats(min_value=1.0, max_value=4 * HOUR), min_size=1, max_size=40),
    others=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=40),
)
def test_a_sensor_within_its_heartbeats_never_signals(
    gaps: list[float], others: list[float]
) -> None:
    """Whatever the other sensors send in between, a sensor whose readings are never more
    than ``after`` heartbeats apart (and which is the newest at the end) raises nothing."""
    w, t = watch(), 0.0
    w.seen("s", record(t, "s-0"))
    for i, gap in enumerate(gaps):
        for j, frac in enumerate(others):  # other sensors, up to this sensor's next reading
            w.seen(f"o{j}", record(t + frac * gap, f"o{j}-{i}", place="p2"))
            assert not any(s == "s" for s, _ in w.due(NOW))
        t += gap
        w.seen("s", record(t, f"s-{i + 1}"))
        assert not any(s == "s" for s, _ in w.due(NOW))


@given(silence=st.floats(min_value=4 * HOUR + 1, max_value=30 * 24 * HOUR))
def test_a_sensor_silent_longer_signals_exactly_once(silence: float) -> None:
    w = watch()
    w.seen("s", record(0.0, "s-0"))
    signalled = []
    for k in range(1, 11):  # the partition's clock moves on in ten steps
        w.tick(silence * k / 10)
        signalled += [s for s, _ in w.due(NOW)]
    assert signalled == ["s"]


def test_the_shipped_catalogue_watches_life_safety_devices() -> None:
    cat = load_catalogue()
    watched = cat.silence_of()
    assert {"gas_lel", "smoke_obscuration", "fall_detector", "toxic_gas_ppm"} <= set(watched)
    for kind, sp in watched.items():
        assert cat.for_sensor_kind(kind), kind  # a kind some risk point reads
        assert cat.point(sp.id) is sp
