"""A simulated device reports like a field IoT device: heartbeats, alarm pace, faults."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.tools.simulate.device import (
    ALARM_EVERY_MIN,
    HEARTBEAT_MIN,
    HOLD_MIN,
    Device,
    Episode,
    envelope,
)
from streams.tools.simulate.profiles import PROFILES

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def reports(dev: Device, start: datetime, end: datetime) -> list[datetime]:
    out, t = [], start
    while True:
        t = dev.next_report(t)
        if t >= end:
            return out
        out.append(t)


#: single-channel kinds (a station's envelope is its load's; stations: test_stations.py)
SINGLE = sorted(k for k in set(HEARTBEAT_MIN) & set(PROFILES) if not PROFILES[k].channels)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(SINGLE), seed=st.integers(0, 99))
def test_a_healthy_device_reports_on_its_heartbeat_and_stays_in_its_envelope(
    kind: str, seed: int
) -> None:
    dev = Device.make(f"s-{seed}", kind, PROFILES[kind], seed)
    times = reports(dev, T0, T0 + timedelta(days=1))
    beat = timedelta(minutes=HEARTBEAT_MIN[kind])
    assert {b - a for a, b in itertools.pairwise(times)} == {beat}
    assert len(times) in (86400 // beat.total_seconds(), 86400 // beat.total_seconds() - 1)
    lo, hi = envelope(PROFILES[kind])
    values = [dev.value_at(t) for t in times]
    inside = sum(lo <= v <= hi for v in values) / len(values)
    assert inside >= 0.95  # noise alone stays within its 4-sigma envelope


def test_an_incident_is_reported_at_once_then_at_the_alarm_pace_then_restored() -> None:
    dev = Device.make("s-gas", "gas_lel", PROFILES["gas_lel"], 1)
    start = T0 + timedelta(hours=3, minutes=7, seconds=13)
    dev.episodes.append(Episode("incident", start, None))
    times = reports(dev, T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    assert times[0] == start  # at once, not at the next heartbeat
    step = timedelta(minutes=ALARM_EVERY_MIN)
    assert times[1] - times[0] == step
    fixed = start + timedelta(minutes=21)
    assert dev.fix(fixed)
    after = reports(dev, fixed - timedelta(seconds=1), fixed + timedelta(hours=1))
    restored = [t for t in after if t < fixed + timedelta(minutes=HOLD_MIN)]
    assert len(restored) >= HOLD_MIN / ALARM_EVERY_MIN - 1  # the "restored" reports
    later = [t for t in after if t >= fixed + timedelta(minutes=HOLD_MIN)]
    assert all(
        b - a == timedelta(minutes=HEARTBEAT_MIN["gas_lel"]) for a, b in itertools.pairwise(later)
    )
    lo, hi = envelope(PROFILES["gas_lel"])
    dev2 = Device.make("s-gas", "gas_lel", PROFILES["gas_lel"], 1)
    dev2.episodes.append(Episode("incident", start, None))
    assert not lo <= dev2.value_at(start) <= hi  # the incident's value is out of bounds


def test_a_dropout_silences_the_device_and_a_stuck_one_repeats_itself() -> None:
    dev = Device.make("s-river", "river_level_m", PROFILES["river_level_m"], 2)
    gap = Episode("dropout", T0 + timedelta(hours=2), T0 + timedelta(hours=6))
    dev.episodes.append(gap)
    times = reports(dev, T0, T0 + timedelta(hours=8))
    assert not [t for t in times if gap.covers(t)]
    assert [t for t in times if t >= T0 + timedelta(hours=6)]  # it comes back
    stuck = Device.make("s-tank", "tank_level_pct", PROFILES["tank_level_pct"], 3)
    stuck.episodes.append(Episode("stuck", T0, T0 + timedelta(hours=5)))
    values = {stuck.value_at(t) for t in reports(stuck, T0, T0 + timedelta(hours=4))}
    assert len(values) == 1
