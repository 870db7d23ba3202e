"""Multi-channel stations in the district: every channel in one reading, one physics, and
faults the catalogue's own multivariate detector sees (end to end, without a broker)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from schemas import RiskSignal, SensorReading
from streams.core.shared.catalogue import load_catalogue
from streams.core.signals import baseline
from streams.core.signals.detect import Detection
from streams.tools.simulate.device import HEARTBEAT_MIN, Device, Episode
from streams.tools.simulate.history import faults, readings
from streams.tools.simulate.profiles import PROFILES
from streams.tools.simulate.stations import CHANNEL_MODELS

CATALOGUE = load_catalogue()
#: station kind → the risk point the catalogue judges it by
STATIONS = {
    rp.source.sensor_kind: rp.id
    for rp in CATALOGUE.risk_points
    if rp.source.sensor_kind and PROFILES[rp.source.sensor_kind].channels
}
START = datetime(2026, 3, 2, tzinfo=UTC)  # the day judged; its history is the 5 days before
HISTORY_DAYS = 5.0  # as `yujing district-day` learns them


def device(kind: str, seed: int) -> Device:
    prof = replace(PROFILES[kind], risk_point=STATIONS[kind])
    return Device.make(f"{kind}-1@site.test", kind, prof, seed)


def reports(dev: Device, start: datetime, end: datetime) -> list[datetime]:
    out, t = [], dev.next_report(start - timedelta(microseconds=1))
    while t < end:
        out.append(t)
        t = dev.next_report(t)
    return out


def reading(dev: Device, t: datetime) -> SensorReading:
    """As the live district day builds it (streams.tools.simulate.live)."""
    value, values = dev.read(t)
    return SensorReading(
        reading_id=f"{dev.sensor_id}-{dev.sent:06d}",
        sensor_id=dev.sensor_id,
        sensor_kind=dev.kind,
        place_id="site.test",
        value=value,
        unit=dev.prof.unit,
        values=values,
        event_time=t,
    )


def corr(xs: list[float], ys: list[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy)


def test_the_catalogue_judges_three_station_kinds_with_mahalanobis_warm_within_history() -> None:
    assert set(STATIONS) == {"pump_station", "gas_regulator_station", "water_supply_station"}
    for kind, rp_id in STATIONS.items():
        rp = CATALOGUE.risk_point(rp_id)
        assert rp.detector.kind == "mahalanobis"
        det = rp.detector.cls.from_params(dict(rp.detector.params))
        beat_s = HEARTBEAT_MIN[kind] * 60
        # warm after `warmup` heartbeats over `warmup_s`: well within the 5 days learnt
        warm_s = max(det.warmup * beat_s, det.warmup_s)
        assert warm_s <= HISTORY_DAYS * 86400 / 3


@pytest.mark.parametrize("kind", sorted(STATIONS))
def test_a_station_reports_every_channel_and_its_main_one_as_its_value(kind: str) -> None:
    dev = device(kind, 1)
    model = CHANNEL_MODELS[PROFILES[kind].channels or ""]
    for t in reports(dev, START, START + timedelta(hours=6)):
        r = reading(dev, t)
        assert 2 <= len(r.values) <= 16 and all(len(k) <= 64 for k in r.values)
        assert r.value == r.values[model.main]
        assert all(math.isfinite(v) for v in r.values.values())


@pytest.mark.parametrize(
    ("kind", "a", "b", "sign"),
    [
        ("pump_station", "flow_m3h", "current_a", 1),
        ("pump_station", "speed_rpm", "vibration_mm_s", 1),
        ("gas_regulator_station", "flow_m3h", "valve_open_pct", 1),
        ("gas_regulator_station", "flow_m3h", "inlet_kpa", -1),
        ("water_supply_station", "flow_m3h", "speed_rpm", 1),
        ("water_supply_station", "flow_m3h", "inlet_mpa", -1),
    ],
)
def test_a_healthy_stations_channels_move_together(kind: str, a: str, b: str, sign: int) -> None:
    dev = device(kind, 2)
    rows = [dev.read(t)[1] for t in reports(dev, START, START + timedelta(days=2))]
    assert sign * corr([r[a] for r in rows], [r[b] for r in rows]) > 0.8


def test_a_stuck_station_repeats_its_telegram_a_spike_hits_its_main_channel() -> None:
    dev = device("pump_station", 3)
    hour = timedelta(hours=1)
    dev.episodes += [
        Episode("stuck", START + hour, START + 3 * hour),
        Episode("dropout", START + 4 * hour, START + 5 * hour),
    ]
    stuck = [dev.read(t) for t in reports(dev, START + hour, START + 3 * hour)]
    assert len(stuck) >= 7 and all(r == stuck[0] for r in stuck)
    assert not reports(dev, START + 4 * hour, START + 5 * hour)
    beat = reports(dev, START + 6 * hour, START + 7 * hour)[0]
    dev.episodes.append(Episode("spike", beat, beat + timedelta(seconds=1)))
    value, values = dev.read(beat)
    assert value == values["flow_m3h"] > 2 * stuck[0][0]


def test_an_incident_is_one_of_the_models_faults_reported_at_alarm_pace() -> None:
    dev = device("water_supply_station", 4)
    onset = START + timedelta(hours=10, minutes=7)
    normal = [dev.read(t)[1] for t in reports(dev, START + timedelta(hours=9), onset)]
    dev.episodes.append(Episode("incident", onset, None))
    during = reports(dev, onset, onset + timedelta(hours=1))
    assert len(during) >= 30  # every ALARM_EVERY_MIN (and its heartbeats), not every 15 min
    burst = [dev.read(t)[1] for t in during]

    def mean(rows: list[dict[str, float]], k: str) -> float:
        return sum(r[k] for r in rows) / len(rows)

    assert mean(burst, "flow_m3h") > 1.3 * mean(normal, "flow_m3h")  # the flow jumps
    assert mean(burst, "outlet_mpa") < mean(normal, "outlet_mpa") - 0.05  # the pressure falls


def day_signals(kind: str, seed: int, incident: bool) -> tuple[list[RiskSignal], Episode | None]:
    """Warm the catalogue's own detector on the station's 5 days of history (as
    streams.tools.simulate.history does), then run a day (with an incident from 10:00 until
    fixed at 14:00, or none) through the detection core; the day's signals."""
    detection = Detection(CATALOGUE, seed=seed)
    dev = device(kind, seed)
    past = dev.past()
    begin = START - timedelta(days=HISTORY_DAYS)
    past.episodes = faults(past.rng, begin, START)
    state = baseline.learn_sensor(detection, kind, readings(past, begin, START))
    assert state is not None
    end = START + timedelta(days=1)
    dev.episodes += faults(dev.rng, START, end)
    episode = None
    if incident:
        # from about 10:00: the minute picks which of the model's faults it is
        episode = Episode("incident", START + timedelta(hours=10, minutes=seed), None)
        episode.fixed_at = START + timedelta(hours=14)
        dev.episodes.append(episode)
    signals: list[RiskSignal] = []
    for t in reports(dev, START, end):
        state, out = detection.on_reading(reading(dev, t), state, t)
        signals += out
    return signals, episode


SEEDS = range(5)


@pytest.mark.parametrize("kind", sorted(STATIONS))
def test_a_stations_fault_raises_its_risk_point_and_a_normal_day_raises_none(kind: str) -> None:
    """Measured on seeds 0-4: every incident seen within minutes; no signal on a normal day
    (the day's usual dropouts, stuck and spiky readings included: a stuck telegram is a
    normal one repeated; a spike may rightly score, so at most one a day is allowed)."""
    for seed in SEEDS:
        signals, ep = day_signals(kind, seed, incident=True)
        assert ep is not None and ep.fixed_at is not None
        assert {s.risk_point for s in signals} == {STATIONS[kind]}
        hits = [s for s in signals if ep.start <= s.event_time < ep.fixed_at]
        assert hits, f"{kind} seed {seed}: the fault went unseen"
        assert hits[0].event_time - ep.start <= timedelta(minutes=10)
        normal, _ = day_signals(kind, seed, incident=False)
        assert len(normal) <= 1, f"{kind} seed {seed}: {len(normal)} signals on a normal day"


def test_the_live_district_day_sends_the_stations_channels() -> None:
    from streams.tools.simulate.command import Simulation
    from streams.tools.simulate.live import LiveWorld
    from streams.tools.simulate.world import World, load_model

    world = World(load_model(None), kinds=set(STATIONS))
    assert {s.kind for s in world.sensors} == set(STATIONS)
    assert 10 <= sum(s.kind == "pump_station" for s in world.sensors) <= 60
    assert 10 <= sum(s.kind == "water_supply_station" for s in world.sensors) <= 30
    live = LiveWorld(
        world, CATALOGUE, Simulation.profiles_for(CATALOGUE), [], START, START + timedelta(hours=1)
    )
    sent = [e for e in live.due(START + timedelta(hours=1)) if isinstance(e, SensorReading)]
    assert len(sent) >= 3 * len(world.sensors)  # every 15 minutes
    main = {k: CHANNEL_MODELS[PROFILES[k].channels or ""].main for k in STATIONS}
    assert all(e.value == e.values[main[e.sensor_kind]] for e in sent)


@pytest.mark.parametrize(("warm_h", "expected"), [(2.0, False), (25.0, True)])
def test_yujing_simulate_plans_a_station_incident_only_once_its_detector_can_judge(
    warm_h: float, expected: bool
) -> None:
    """``yujing simulate`` has no history: a station's detector wants a day of readings."""
    import random

    from streams.tools.simulate.command import Simulation
    from streams.tools.simulate.plan import Planner
    from streams.tools.simulate.world import Slice, World, load_model

    world = World(load_model(None), Slice(towns=3), kinds=set(STATIONS))
    earliest = START + timedelta(hours=warm_h)
    planner = Planner(
        world,
        Simulation.profiles_for(CATALOGUE),
        CATALOGUE,
        random.Random(0),
        START,
        earliest + timedelta(hours=6),
        earliest,
        60.0,
    )
    windows = planner.singles(8)
    assert any(w.sensor is not None for w in windows) is expected
