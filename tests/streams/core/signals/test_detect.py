"""Detection over the catalogue: events in, explainable signals and small JSON state out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import DepartmentEvent, RiskSignal, SensorReading
from schemas.codec import decode, encode
from streams.core.shared.catalogue import Catalogue, load_catalogue
from streams.core.shared.ids import stable_id
from streams.core.signals.detect import Conflict, Detection
from streams.core.signals.live import IDS, SEEN

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(seconds=3)


def reading(
    value: float,
    *,
    rid: str = "rd-1",
    kind: str = "gas_lel",
    sensor: str = "gas-1",
    t: datetime = T0,
) -> SensorReading:
    return SensorReading(
        event_time=t,
        reading_id=rid,
        sensor_id=sensor,
        sensor_kind=kind,
        place_id="restaurant-7",
        value=value,
    )


def record(event_type: str, eid: str, t: datetime = T0) -> DepartmentEvent:
    return DepartmentEvent(
        event_time=t,
        event_id=eid,
        department="fire",
        event_type=event_type,
        place_id="restaurant-7",
    )


@pytest.fixture(scope="module")
def detection() -> Detection:
    return Detection(load_catalogue())


def test_a_crossing_emits_one_explainable_signal(detection: Detection) -> None:
    state, signals = detection.on_reading(reading(23.5), None, NOW)
    assert len(signals) == 1
    sig = signals[0]
    assert sig.risk_point == "restaurant_gas_leak"
    assert sig.module == "gas_safety"
    assert sig.detector_id == "threshold.restaurant_gas_leak"
    assert sig.detector_version == 1
    assert sig.signal_id == stable_id("sig", "threshold.restaurant_gas_leak", 1, "rd-1")
    assert sig.source_key == "gas-1"
    assert sig.place_id == "restaurant-7"
    assert sig.severity == "critical"
    assert sig.emergency is True
    # 0.5 at upper (20), 0 at clear (10): 23.5 scores 0.675 against the trigger's 0.5.
    assert sig.score == pytest.approx(0.675)
    assert sig.threshold == 0.5
    assert sig.score >= sig.threshold
    assert sig.baseline == 10.0
    assert sig.indicators == {"value": 23.5, "upper": 20.0, "clear": 10.0}
    assert sig.source_event_ids == ["rd-1"]
    assert sig.event_time == T0
    assert sig.detected_at == NOW
    assert json.loads(state) == {
        "restaurant_gas_leak": {"d": {}, "g": {"a": True}},
        IDS: [["rd-1", [23.5, T0.timestamp()]]],  # what the sensor said, by reading id
        SEEN: ["gas_lel", "restaurant-7", T0.timestamp(), "rd-1", 0],  # its dead-man's switch
    }
    assert decode(RiskSignal, encode(sig)) == sig


def test_signal_ids_are_deterministic(detection: Detection) -> None:
    _, first = detection.on_reading(reading(30.0), None, NOW)
    _, replay = detection.on_reading(reading(30.0), None, NOW + timedelta(hours=1))
    _, other = detection.on_reading(reading(30.0, rid="rd-2"), None, NOW)
    assert first[0].signal_id == replay[0].signal_id
    assert first[0].signal_id != other[0].signal_id
    assert first[0].model_copy(update={"detected_at": replay[0].detected_at}) == replay[0]


def test_below_the_limit_there_is_state_but_no_signal(detection: Detection) -> None:
    state, signals = detection.on_reading(reading(5.0), None, NOW)
    assert signals == []
    assert json.loads(state) == {
        "restaurant_gas_leak": {"d": {}, "g": {"a": False}},
        IDS: [["rd-1", [5.0, T0.timestamp()]]],
        SEEN: ["gas_lel", "restaurant-7", T0.timestamp(), "rd-1", 0],
    }


def test_hysteresis_is_carried_in_the_state(detection: Detection) -> None:
    state: str | None = None
    fired = []
    for i, v in enumerate([25.0, 26.0, 15.0, 22.0, 9.0, 21.0]):
        state, signals = detection.on_reading(reading(v, rid=f"rd-{i}"), state, NOW)
        fired.append([s.source_event_ids[0] for s in signals])
    assert fired == [["rd-0"], [], [], [], [], ["rd-5"]]


@pytest.mark.parametrize("kind", ["co2_ppm", "gas_lel_v2", "restaurant_gas_leak"])
def test_an_unknown_sensor_kind_raises_no_signals(detection: Detection, kind: str) -> None:
    assert not detection.watches(kind)
    state, signals = detection.on_reading(reading(1e6, kind=kind), None, NOW)
    assert signals == []
    assert json.loads(state) == {}


def test_an_unknown_event_type_raises_no_signals(detection: Detection) -> None:
    state, signals = detection.on_department_event(record("parking_ticket", "e-1"), None, NOW)
    assert signals == []
    assert json.loads(state) == {}


def test_every_catalogue_sensor_kind_is_watched(detection: Detection) -> None:
    kinds = {rp.source.sensor_kind for rp in load_catalogue().risk_points}
    kinds.discard(None)
    assert kinds
    assert all(detection.watches(k) for k in kinds if k is not None)


def test_a_data_collision_between_departments_raises_one_signal(detection: Detection) -> None:
    state, signals = detection.on_department_event(
        record("fire_inspection_failed", "fire-1"), None, NOW
    )
    assert signals == []
    state, signals = detection.on_department_event(
        record("gas_alarm_report", "gas-9", T0 + timedelta(days=2)), state, NOW
    )
    assert [s.risk_point for s in signals] == ["gas_alarm_after_failed_inspection"]
    sig = signals[0]
    assert sig.source_event_ids == ["fire-1", "gas-9"]
    assert sig.signal_id == stable_id(
        "sig",
        "collision.gas_alarm_after_failed_inspection",
        sig.detector_version,
        "fire-1",
        "gas-9",
    )
    assert sig.place_id == "restaurant-7"
    assert len(state) < 4096


def _catalogue(extra_points: list[dict[str, Any]]) -> Catalogue:
    return Catalogue.model_validate(
        {
            "version": 1,
            "modules": [{"id": "m", "name": "M"}],
            "risk_points": [
                {
                    "id": "low_gas",
                    "module": "m",
                    "name": "Low gas",
                    "source": {"sensor_kind": "gas_lel"},
                    "detector": {"kind": "threshold", "params": {"upper": 10, "clear": 5}},
                    "severity": "medium",
                    "emergency": False,
                },
                *extra_points,
            ],
        }
    )


def test_every_risk_point_on_a_sensor_kind_is_evaluated_with_its_own_state() -> None:
    high = {
        "id": "high_gas",
        "module": "m",
        "name": "High gas",
        "source": {"sensor_kind": "gas_lel"},
        "detector": {"kind": "threshold", "params": {"upper": 20, "clear": 5}},
        "severity": "critical",
        "emergency": True,
    }
    det = Detection(_catalogue([high]))
    state, signals = det.on_reading(reading(15.0), None, NOW)
    assert [s.risk_point for s in signals] == ["low_gas"]
    state, signals = det.on_reading(reading(25.0, rid="rd-2"), state, NOW)
    assert [s.risk_point for s in signals] == ["high_gas"]
    assert {k: v["g"] for k, v in json.loads(state).items() if k != IDS} == {
        "low_gas": {"a": True},
        "high_gas": {"a": True},
    }


def test_a_for_duration_waits_in_event_time() -> None:
    held = {
        "id": "held_gas",
        "module": "m",
        "name": "Held gas",
        "source": {"sensor_kind": "co_ppm"},
        "detector": {"kind": "threshold", "params": {"upper": 50}},
        "trigger": {"for_s": 300},
        "severity": "high",
        "emergency": True,
    }
    det = Detection(_catalogue([held]))
    state: str | None = None
    fired_at = []
    for minute in range(8):
        r = reading(80.0, kind="co_ppm", rid=f"rd-{minute}", t=T0 + timedelta(minutes=minute))
        state, signals = det.on_reading(r, state, NOW)
        fired_at += [minute for _ in signals]
    assert fired_at == [5]


def test_the_caller_state_string_is_only_read(detection: Detection) -> None:
    state, _ = detection.on_reading(reading(5.0), None, NOW)
    before = state
    new_state, signals = detection.on_reading(reading(25.0, rid="rd-2"), state, NOW)
    assert state == before
    assert len(signals) == 1
    assert new_state != state


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(
                ["gas_lel", "gas_pressure_kpa", "gas_flow_m3h", "river_level_m", "co2_ppm"]
            ),
            st.floats(min_value=-100, max_value=100, allow_nan=False),
        ),
        max_size=100,
    )
)
def test_state_is_json_round_trippable_and_small(steps: list[tuple[str, float]]) -> None:
    detection = Detection(load_catalogue())
    states: dict[str, str | None] = {}
    replayed: dict[str, str | None] = {}
    for i, (kind, value) in enumerate(steps):
        r = reading(
            value, kind=kind, sensor=f"s-{kind}", rid=f"rd-{i}", t=T0 + timedelta(minutes=i)
        )
        state, signals = detection.on_reading(r, states.get(kind), NOW)
        assert len(state) < 4096
        assert json.dumps(json.loads(state), separators=(",", ":")) == state
        states[kind] = state
        # A state that went through JSON (a table, a changelog) behaves the same.
        prior = replayed.get(kind)
        restored = json.dumps(json.loads(prior)) if prior is not None else None
        replayed[kind], replay_signals = detection.on_reading(r, restored, NOW)
        assert replayed[kind] == state
        assert replay_signals == signals
        for s in signals:
            assert s.score >= s.threshold
            assert s.source_event_ids == [r.reading_id]


def test_a_reading_sent_again_is_taken_once_and_its_id_with_other_content_is_refused(
    detection: Detection,
) -> None:
    """At-least-once producers send a reading twice: the detectors learn it once. A gateway
    reusing an id for another value is a conflict: the first reading stands."""
    first = reading(25.0)
    state, signals = detection.on_reading(first, None, NOW)
    assert len(signals) == 1
    again = detection.observe_reading(first, state, NOW)
    assert (again.signals, again.health, json.loads(again.state)) == ([], [], json.loads(state))
    with pytest.raises(Conflict, match=r"rd-1.*value 25\.0.*this one says 26\.0"):
        detection.observe_reading(reading(26.0), state, NOW)
    with pytest.raises(Conflict):  # the same value at another time is another content too
        detection.observe_reading(reading(25.0, t=T0 + timedelta(seconds=1)), state, NOW)


def test_a_batch_refuses_only_its_conflicting_readings(detection: Detection) -> None:
    from streams.core.signals.live import KEEP_IDS

    live = detection.load(None)
    first = [reading(1.0 + i, rid=f"rd-{i}", t=T0 + timedelta(minutes=i)) for i in range(3)]
    assert detection.observe_many(first, lambda _: live, NOW).conflicts == []
    again = [first[0], reading(9.0, rid="rd-1"), reading(4.0, rid="rd-9")]
    seen = detection.observe_many(again, lambda _: live, NOW)
    assert (seen.repeats, [i for i, _ in seen.conflicts]) == (1, [1])
    # only the last KEEP_IDS ids are remembered: an older one is taken as new
    more = [
        reading(1.0, rid=f"m-{i}", t=T0 + timedelta(hours=1, minutes=i)) for i in range(KEEP_IDS)
    ]
    detection.observe_many(more, lambda _: live, NOW)
    late = detection.observe_many([reading(7.0, rid="rd-0")], lambda _: live, NOW)
    assert (late.repeats, late.conflicts) == (0, [])


def test_keys_no_risk_point_watches_keep_no_ids(detection: Detection) -> None:
    state, _ = detection.on_reading(reading(1.0, kind="co2_ppm"), None, NOW)
    assert json.loads(state) == {}


def test_a_replay_the_restored_state_has_taken_changes_nothing(detection: Detection) -> None:
    """After a kill -9 the state may be written past the committed offsets: the inputs read
    again are skipped by position, so the detectors learn each reading once."""
    readings = [reading(1.0 + i, rid=f"rd-{i}", t=T0 + timedelta(minutes=i)) for i in range(12)]
    once = detection.load(None)
    for offset, r in enumerate(readings):
        detection.observe_many([r], lambda _: once, NOW, at=("readings", offset))
    replayed = detection.load(detection.dump(once))  # restored, then the last 10 read again
    seen = [
        detection.observe_many([r], lambda _: replayed, NOW, at=("readings", offset))
        for offset, r in enumerate(readings)
        if offset >= 2
    ]
    assert sum(s.repeats for s in seen) == 10 and not any(s.outputs for s in seen)
    assert detection.dump(replayed) == detection.dump(once)
    # a log made again from offset 0 is not a replay: its readings are newer
    fresh = reading(5.0, rid="new-0", t=T0 + timedelta(hours=1))
    assert detection.observe_many([fresh], lambda _: replayed, NOW, at=("readings", 0)).repeats == 0
