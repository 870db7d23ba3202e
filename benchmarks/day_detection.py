"""The district day's learnt detectors, by the detection core: incidents seen, signals outside.

(**reading** → **signal**.) Where ``yujing district-day`` runs the whole pipeline on a
broker, this asks one question of its first hop, with no broker: on the simulated
district day, how many of the incidents at the sensors of a learnt one-channel
detector (a risk point whose detector kind is ``likelihood``; ``--kinds`` names
others) does it signal, and how many signals does it raise outside any incident?

The day is built as ``yujing district-day`` builds it with its defaults
(:meth:`streams.tools.day.run.Day.prepare`): the district model's world, the
incident mix (:mod:`streams.tools.simulate.mix`: 800 single incidents a day, 2
regional, 2 industry, 1 trend, 1 comprehensive and 2 compound group incidents),
the devices and their faults (:class:`streams.tools.simulate.live.LiveWorld`), 24 h
from :data:`streams.tools.simulate.simulation.DEFAULT_START`. Each watched sensor
is warmed on 5 days of history as :func:`streams.tools.simulate.history.learn`
warms it, then its day's readings (with its incidents and faults, as the live
simulator draws them) go through :meth:`streams.core.signals.detect.Detection.on_reading`
in event-time order (a sensor's state depends on its own readings only). No one
fixes anything: an incident ends at its natural end or at the day's end.

Per risk point: the incidents at its sensors (single incidents and the members of
group incidents), those *seen* (a signal of the risk point at the sensor from the
incident's start to its end plus :data:`GRACE`), and the signals at its sensors
outside every incident window, with how many of them fall during a sensor fault
(dropout, stuck, spike). Several ``--catalogue`` files are compared on the same
day (the world and the incidents are drawn with the first one). Run from the
repository root::

    .venv/bin/python -m benchmarks.day_detection [--seed 0] [--catalogue FILE ...]
        [--kinds likelihood ...] [--sensors-share 1.0]

Prints a table per catalogue and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from schemas import RiskSignal, SensorReading
from streams.core.shared.catalogue import Catalogue, load_catalogue
from streams.core.signals import baseline
from streams.core.signals.detect import Detection, KeyState
from streams.core.signals.detectors import Point
from streams.runtime.settings import Settings
from streams.tools.simulate import history
from streams.tools.simulate.device import Device, Episode
from streams.tools.simulate.live import LiveWorld
from streams.tools.simulate.mix import Incident, Mix, chance_per_hour
from streams.tools.simulate.simulation import DEFAULT_START, Simulation
from streams.tools.simulate.world import Sensor, Slice, World, load_model

#: how long after an incident's end a signal still counts as seeing it
GRACE = timedelta(hours=1)
#: ``yujing district-day``'s defaults (streams/tools/day/run.py)
HOURS = 24.0
INCIDENTS_PER_DAY = 800.0
GROUPS = (("regional", 2), ("industry", 2), ("trend", 1))
COMPREHENSIVE = 1
COMPOUND = 2
HISTORY_DAYS = 5.0
FAULT_KINDS = frozenset({"dropout", "stuck", "spike"})


@dataclass
class Day:
    """The district day of a seed: its world, incidents and devices."""

    start: datetime
    end: datetime
    world: World
    incidents: list[Incident]
    live: LiveWorld
    past: history.History


def make_day(catalogue: Catalogue, seed: int, district: Path) -> Day:
    """The day as :meth:`streams.tools.day.run.Day.prepare` draws it (without learning)."""
    start = datetime.fromisoformat(DEFAULT_START)
    end = start + timedelta(hours=HOURS)
    profiles = Simulation.profiles_for(catalogue)
    model = load_model(district)
    world = World(model, Slice(), kinds=set(profiles))
    rng = random.Random(f"yujing-day:{seed}")
    mix = Mix(world, catalogue, profiles, rng, start, end, per_day=INCIDENTS_PER_DAY)
    incidents = mix.singles()
    chance = chance_per_hour(incidents, (end - start).total_seconds() / 3600)
    for kind, n in GROUPS:
        incidents += mix.groups(kind, n, chance)
    for _ in range(COMPREHENSIVE):
        incidents += mix.storm(chance.get(model.district.id, 0.0))
    incidents += mix.compound(COMPOUND)
    live = LiveWorld(world, catalogue, profiles, incidents, start, end, seed=seed)
    return Day(start, end, world, incidents, live, history.History(start, HISTORY_DAYS, seed=seed))


def past_points(device: Device, h: history.History) -> list[Point]:
    """The device's history, as :func:`streams.tools.simulate.history.learn` replays it."""
    begin = h.start - timedelta(days=h.days)
    past = device.past()
    past.episodes = history.faults(past.rng, begin, h.start)
    return list(history.readings(past, begin, h.start))


def day_readings(day: Day, sensor: Sensor) -> Iterator[SensorReading]:
    """The sensor's readings of the day, as :class:`LiveWorld` releases them (no fixes)."""
    dev = day.live.devices[sensor.sensor_id]
    t = dev.next_report(day.start - timedelta(microseconds=1))
    while t < day.end:
        value, values = dev.read(t)
        yield SensorReading(
            reading_id=f"{sensor.sensor_id}-{dev.sent:06d}",
            sensor_id=sensor.sensor_id,
            sensor_kind=dev.kind,
            place_id=sensor.place.place_id,
            value=value,
            unit=dev.prof.unit,
            values=values,
            event_time=t,
        )
        t = dev.next_report(t)


def chosen(sensor_id: str, share: float) -> bool:
    """A deterministic ``share`` of the sensors (by a hash of the id)."""
    return zlib.crc32(sensor_id.encode()) / 2**32 < share


@dataclass
class Row:
    """One risk point's figures."""

    sensors: int = 0
    incidents: int = 0
    seen: int = 0
    outside: int = 0
    during_faults: int = 0
    faults_by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, other: Row) -> None:
        self.sensors += other.sensors
        self.incidents += other.incidents
        self.seen += other.seen
        self.outside += other.outside
        self.during_faults += other.during_faults
        for k, n in other.faults_by_kind.items():
            self.faults_by_kind[k] = self.faults_by_kind.get(k, 0) + n

    def pct(self) -> float | None:
        return 100.0 * self.seen / self.incidents if self.incidents else None

    def to_json(self) -> dict[str, Any]:
        pct = self.pct()
        return {
            "sensors": self.sensors,
            "incidents": self.incidents,
            "seen": self.seen,
            "pct_seen": None if pct is None else round(pct, 1),
            "signals_outside": self.outside,
            "outside_during_faults": self.during_faults,
            "outside_faults_by_kind": dict(sorted(self.faults_by_kind.items())),
        }


@dataclass
class Judge:
    """One catalogue's detection: the risk points measured, warming and feeding a sensor."""

    path: Path
    catalogue: Catalogue
    kinds: Sequence[str]
    seed: int
    worker_seed: int
    rows: dict[str, Row] = field(default_factory=dict)
    warm_s: float = 0.0
    feed_s: float = 0.0

    def __post_init__(self) -> None:
        #: sensor kind → the measured risk points it feeds
        self.of_kind: dict[str, list[str]] = {}
        for rp in self.catalogue.risk_points:
            if rp.detector.kind in self.kinds and rp.source.sensor_kind is not None:
                self.of_kind.setdefault(rp.source.sensor_kind, []).append(rp.id)
                self.rows[rp.id] = Row()
        self.learner = Detection(self.catalogue, seed=self.seed)  # as history.learn
        self.detection = Detection(self.catalogue, seed=self.worker_seed)  # as the worker
        self.cold_kinds, _ = history.needs_history(self.catalogue)

    def warm(self, sensor: Sensor, points: list[Point]) -> KeyState | None:
        if sensor.kind not in self.cold_kinds:
            return None  # history.learn leaves it fresh
        t = time.perf_counter()
        state = baseline.learn_sensor(self.learner, sensor.kind, points)
        self.warm_s += time.perf_counter() - t
        return state

    def feed(self, readings: list[SensorReading], state: KeyState | None) -> list[RiskSignal]:
        t = time.perf_counter()
        signals: list[RiskSignal] = []
        for r in readings:
            state, out = self.detection.on_reading(r, state, r.event_time)
            signals += out
        self.feed_s += time.perf_counter() - t
        return signals

    def count(
        self,
        sensor: Sensor,
        signals: list[RiskSignal],
        incidents: list[Incident],
        faults: list[Episode],
        day_end: datetime,
    ) -> None:
        windows = [(i.start, i.ended(day_end) + GRACE) for i in incidents]
        for rp_id in self.of_kind[sensor.kind]:
            row = self.rows[rp_id]
            row.sensors += 1
            mine = [s.event_time for s in signals if s.risk_point == rp_id]
            row.incidents += len(windows)
            row.seen += sum(any(a <= t <= b for t in mine) for a, b in windows)
            for t in mine:
                if any(a <= t <= b for a, b in windows):
                    continue
                row.outside += 1
                hit = next((e.kind for e in faults if e.covers(t)), None)
                if hit is not None:
                    row.during_faults += 1
                    row.faults_by_kind[hit] = row.faults_by_kind.get(hit, 0) + 1

    def total(self) -> Row:
        out = Row()
        for row in self.rows.values():
            out.add(row)
        return out


def run(day: Day, judges: list[Judge], share: float, err: Any) -> int:
    """Warm and feed every measured sensor through every judge; the sensors done."""
    at_sensor: dict[str, list[Incident]] = {}
    for inc in day.incidents:
        if inc.risk_kind == "single" and inc.sensor is not None:
            at_sensor.setdefault(inc.sensor.sensor_id, []).append(inc)
    faults: dict[str, list[Episode]] = {}
    for sid, e in day.live.fault_episodes:
        if e.kind in FAULT_KINDS:
            faults.setdefault(sid, []).append(e)
    kinds = set().union(*(j.of_kind for j in judges))
    sensors = [s for s in day.world.sensors if s.kind in kinds and chosen(s.sensor_id, share)]
    t0 = time.monotonic()
    for n, sensor in enumerate(sensors, 1):
        points = past_points(day.live.devices[sensor.sensor_id], day.past)
        readings = list(day_readings(day, sensor))
        for j in judges:
            if sensor.kind not in j.of_kind:
                continue
            signals = j.feed(readings, j.warm(sensor, points))
            j.count(
                sensor,
                signals,
                at_sensor.get(sensor.sensor_id, []),
                faults.get(sensor.sensor_id, []),
                day.end,
            )
        if n % 500 == 0 or n == len(sensors):
            print(
                f"day_detection: {n:,}/{len(sensors):,} sensors, {time.monotonic() - t0:.0f} s",
                file=err,
                flush=True,
            )
    return len(sensors)


def table(j: Judge) -> str:
    head = f"{'risk point':<28} {'sensors':>7} {'incidents':>9} {'seen':>5} {'% seen':>7}"
    head += f" {'outside':>8} {'(faults)':>8}"
    lines = [f"catalogue: {j.path}", head, "-" * len(head)]

    def line(name: str, r: Row) -> str:
        pct = r.pct()
        p = "-" if pct is None else f"{pct:.1f}"
        return (
            f"{name:<28} {r.sensors:>7,} {r.incidents:>9,} {r.seen:>5,} {p:>7}"
            f" {r.outside:>8,} {r.during_faults:>8,}"
        )

    lines += [line(rp, r) for rp, r in sorted(j.rows.items())]
    lines += ["-" * len(head), line("total", j.total())]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.day_detection",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--catalogue",
        type=Path,
        action="append",
        help="a catalogue to measure (repeat to compare; default: the configured one)",
    )
    p.add_argument("--kinds", nargs="+", default=["likelihood"], help="detector kinds measured")
    p.add_argument(
        "--sensors-share", type=float, default=1.0, help="share of the sensors (deterministic)"
    )
    a = p.parse_args(argv)
    if not 0 < a.sensors_share <= 1:
        p.error("--sensors-share must be within (0, 1]")
    err = sys.stderr
    settings = Settings.from_env()
    paths: list[Path] = a.catalogue or [settings.catalogue]
    catalogues = [load_catalogue(path) for path in paths]
    t0 = time.monotonic()
    day = make_day(catalogues[0], a.seed, settings.district)
    groups = sum(i.risk_kind != "single" for i in day.incidents)
    print(
        f"day_detection: seed {a.seed}, {len(day.world.sensors):,} sensors, "
        f"{len(day.incidents) - groups:,} incidents and {groups} group incidents "
        f"({time.monotonic() - t0:.1f} s)",
        file=err,
        flush=True,
    )
    judges = [
        Judge(path, cat, tuple(a.kinds), a.seed, settings.seed)
        for path, cat in zip(paths, catalogues, strict=True)
    ]
    done = run(day, judges, a.sensors_share, err)
    wall = time.monotonic() - t0
    print(
        f"day {day.start.isoformat()} + {HOURS:g} h, seed {a.seed}, sensors share "
        f"{a.sensors_share:g} ({done:,} sensors), {HISTORY_DAYS:g} days of history, "
        f"grace {GRACE.total_seconds() / 3600:g} h; {wall:.0f} s"
    )
    for j in judges:
        print()
        print(table(j))
        print(f"(warming {j.warm_s:.0f} s, feeding {j.feed_s:.0f} s)")
    line = {
        "seed": a.seed,
        "start": day.start.isoformat(),
        "hours": HOURS,
        "sensors_share": a.sensors_share,
        "sensors": done,
        "kinds": list(a.kinds),
        "grace_s": GRACE.total_seconds(),
        "wall_s": round(wall, 1),
        "catalogues": [
            {
                "catalogue": str(j.path),
                "risk_points": {rp: r.to_json() for rp, r in sorted(j.rows.items())},
                "total": j.total().to_json(),
            }
            for j in judges
        ],
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
