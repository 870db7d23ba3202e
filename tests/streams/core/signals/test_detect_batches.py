"""Live detectors over a gateway batch (Detection.load / observe_many / dump) raise the
signals and leave the state of the same readings one by one through the JSON path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import SensorReading
from streams.core.shared.catalogue import load_catalogue
from streams.core.signals.detect import Detection, KeyState
from streams.core.signals.live import Live

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)
DETECTION = Detection(load_catalogue())
#: sensor → (kind, normal value): a threshold, a level-shift and a seasonal detector, and
#: an auto-disposable threshold whose alarms start a machine re-check
SENSORS = {
    "gas-1": ("gas_lel", 2.0),
    "drain-1": ("drain_level_cm", 40.0),
    "water-1": ("water_use_m3h", 1.0),
    "hydrant-1": ("hydrant_pressure_mpa", 0.35),
}


@st.composite
def streams_(draw: Any) -> list[SensorReading]:
    n = draw(st.integers(1, 120))
    out = []
    for i in range(n):
        sensor = draw(st.sampled_from(sorted(SENSORS)))
        kind, normal = SENSORS[sensor]
        jump = draw(st.sampled_from([1.0, 1.0, 1.0, 0.0, 3.0, 12.0]))
        out.append(
            SensorReading(
                reading_id=f"r{i}",
                sensor_id=sensor,
                sensor_kind=kind,
                place_id="site.a",
                value=normal * jump + draw(st.floats(-0.05, 0.05)),
                event_time=T0 + timedelta(minutes=5 * i),
            )
        )
    return out


def one_by_one(readings: list[SensorReading]) -> tuple[list[Any], dict[str, KeyState]]:
    states: dict[str, KeyState] = {}
    outputs: list[Any] = []
    for r in readings:
        seen = DETECTION.observe_reading(r, states.get(r.sensor_id), NOW)
        outputs += [*seen.signals, *seen.health]
        states[r.sensor_id] = seen.state
    return outputs, states


@settings(max_examples=60, deadline=None)
@given(readings=streams_(), cuts=st.lists(st.integers(1, 40), max_size=8))
def test_batches_raise_the_same_signals_and_leave_the_same_state(
    readings: list[SensorReading], cuts: list[int]
) -> None:
    want_out, want_states = one_by_one(readings)
    states: dict[str, KeyState] = {}
    got: list[Any] = []
    i = 0
    for size in [*cuts, len(readings)]:
        chunk = readings[i : i + size]
        i += size
        if not chunk:
            break
        live: dict[str, Live] = {}

        def live_of(sid: str, live: dict[str, Live] = live) -> Live:
            if sid not in live:
                live[sid] = DETECTION.load(states.get(sid))
            return live[sid]

        got += DETECTION.observe_many(chunk, live_of, NOW).outputs
        states.update({sid: DETECTION.dump(key) for sid, key in live.items()})  # the commit
    assert got == want_out
    assert states == want_states
