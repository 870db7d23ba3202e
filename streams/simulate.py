"""``yujing simulate``: a synthetic district that feeds the first hops of the flow.

(**reading** / **department event** → signal → alert → order → notification.)
Towns hold communities, communities hold grid cells and sites of several
industries (restaurants, rental flats, factories, construction sites, chemical
stores, cold-chain warehouses, homes of elderly people living alone). Every
site and cell carries sensors of the default catalogue's sensor kinds, each
with a daily profile, noise and the occasional fault (stuck value, dropout,
spike); departments file records about places at a background rate. Incidents
are injected (a gas leak, a flooded underpass, an overcrowded rental flat, ...),
and their ground truth, with the faults, is written alongside.

Output is deterministic for a seed, a start time and the sizes: every id and
value comes from random generators seeded from ``(seed, sensor)``.

**JSONL format** (what ``--out FILE`` writes, and what ``yujing replay`` reads):
one JSON object per line, in event-time order::

    {"topic": "yujing.readings.v1", "event": {...SensorReading as JSON...}}
    {"topic": "yujing.department-events.v1", "event": {...DepartmentEvent...}}

``topic`` is the registry topic name (no prefix); ``event`` is the event
exactly as it goes on that topic (``schemas.codec.encode``), so its Kafka key
is the topic's key field (``schemas.registry``). The ground truth goes to
``--truth`` (default: ``FILE`` with ``.truth.jsonl``): one JSON object per
line, ``{"type": "incident", ...}`` or ``{"type": "fault", ...}`` with the
risk point (incidents), place, town, sensor or subject, start and end.

Pacing: ``--speed 1`` sends at recorded speed (one simulated second per wall
second), ``--speed 60`` sixty times faster, ``--speed 0`` (default) as fast as
``--rate`` (events per wall second; 0 = unlimited) allows. To run a worker on
the same simulated clock: ``YUJING_CLOCK_EPOCH=<start> YUJING_CLOCK_SPEED=<speed>``.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from schemas import DepartmentEvent, Event, RiskSignal, SensorReading
from schemas.registry import spec_for
from streams.core.catalogue import Catalogue, load_catalogue
from streams.core.clock import parse_instant
from streams.core.config import ConfigError
from streams.core.detect import Detection

DEFAULT_START = "2026-03-02T00:00:00+08:00"

TOWNS = (
    "linping",
    "yuhang",
    "liangzhu",
    "wuchang",
    "renhe",
    "pingyao",
    "jingshan",
    "xianlin",
    "zhongtai",
    "huanghu",
    "luniao",
    "baizhang",
)


@dataclass(frozen=True)
class Profile:
    """How one sensor kind behaves: a daily profile, noise, and what an incident looks like."""

    unit: str
    base: float
    amplitude: float = 0.0  # daily swing (cosine peaking at ``peak_hour``)
    peak_hour: float = 14.0
    noise: float = 0.0
    floor: float | None = None  # physical lower bound (e.g. 0 for rain)
    incident: float = 0.0  # value during an incident ("set") or added to normal ("shift")
    mode: str = "set"  # "set", "shift", "scale"
    incident_min: float = 20.0  # minutes an incident lasts, at least
    every: int = 1  # reports every N reading intervals (meters aggregate, e.g. 15 min)
    risk_point: str = ""  # filled from the catalogue


#: every sensor kind of the default catalogue: normal life, and its incident
PROFILES: dict[str, Profile] = {
    "gas_lel": Profile("%LEL", 1.0, 0.5, 12, 0.3, 0.0, 32.0),
    "gas_pressure_kpa": Profile("kPa", 2.0, 0.1, 12, 0.02, 0.0, -0.9, "shift", 120),
    "gas_flow_m3h": Profile("m3/h", 3.0, 2.0, 12, 0.3, 0.0, 5.0, "scale", 120, every=15),
    "smoke_obscuration": Profile("%/m", 0.2, 0.05, 19, 0.05, 0.0, 8.0),
    "hydrant_pressure_mpa": Profile("MPa", 0.35, 0.02, 8, 0.01, 0.0, 0.08, "set", 30),
    "cable_temp_c": Profile("°C", 35.0, 8.0, 15, 1.0, None, 85.0),
    "water_depth_cm": Profile("cm", 2.0, 0.0, 0, 0.5, 0.0, 36.0, "set", 60),
    "river_level_m": Profile("m", 3.6, 0.1, 4, 0.03, 0.0, 4.8, "set", 120),
    "rain_mm_h": Profile("mm/h", 0.5, 0.0, 0, 0.5, 0.0, 72.0, "set", 40),
    "drain_level_cm": Profile("cm", 40.0, 5.0, 8, 1.0, 0.0, 45.0, "shift", 120),
    "wind_speed_ms": Profile("m/s", 4.0, 2.0, 15, 1.0, 0.0, 17.5),
    "settlement_mm": Profile("mm", 3.0, 0.0, 0, 0.2, None, 18.0, "shift", 180),
    "noise_db": Profile("dB", 58.0, 12.0, 14, 2.0, 30.0, 1.8, "scale", 120, every=15),
    "dust_mg_m3": Profile("mg/m3", 1.5, 0.5, 11, 0.3, 0.0, 12.0),
    "boiler_pressure_mpa": Profile("MPa", 0.9, 0.05, 10, 0.02, 0.0, 1.4),
    "vibration_mm_s": Profile("mm/s", 2.5, 0.0, 0, 0.2, 0.0, 4.0, "shift", 120),
    "storage_temp_c": Profile("°C", 22.0, 4.0, 15, 0.5, None, 41.0, "set", 40),
    "toxic_gas_ppm": Profile("ppm", 0.5, 0.0, 0, 0.3, 0.0, 26.0),
    "tank_level_pct": Profile("%", 60.0, 0.0, 0, 0.5, 0.0, -25.0, "shift", 120),
    "water_use_m3h": Profile("m3/h", 0.3, 0.2, 20, 0.05, 0.0, 7.0, "scale", 120, every=15),
    "ebike_charging_current_a": Profile("A", 0.1, 0.0, 0, 0.05, 0.0, 6.5, "set", 30),
    "cold_storage_temp_c": Profile("°C", -21.0, 0.5, 15, 0.3, None, -9.0, "set", 40),
    "road_speed_kmh": Profile("km/h", 45.0, -12.0, 8, 3.0, 3.0, 0.15, "scale", 120, every=15),
    "road_surface_temp_c": Profile("°C", 8.0, 4.0, 14, 0.5, None, -3.0, "set", 60),
    "axle_load_t": Profile("t", 25.0, 0.0, 0, 4.0, 5.0, 56.0, "set", 5),
    "water_use_lph": Profile("l/h", 20.0, 15.0, 8, 3.0, 0.0, 0.0, "set", 780),
    "activity_events_h": Profile("1/h", 6.0, 5.0, 11, 1.0, 0.0, 5.0, "scale", 120, every=15),
    "fall_detector": Profile("", 0.0, 0.0, 0, 0.0, 0.0, 1.0, "set", 2),
}

#: site industry → the sensor kinds fitted there and the records departments file about it
INDUSTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "restaurant": (
        ("gas_lel", "gas_pressure_kpa", "gas_flow_m3h"),
        ("kitchen_inspection_failed", "kitchen_camera_violation", "food_illness_report"),
    ),
    "rental-flat": (
        ("smoke_obscuration", "water_use_m3h", "ebike_charging_current_a"),
        ("rental_complaint", "fire_exit_blocked_report"),
    ),
    "factory": (
        ("dust_mg_m3", "boiler_pressure_mpa", "vibration_mm_s", "cable_temp_c"),
        ("production_activity_report", "wage_arrears_complaint"),
    ),
    "construction": (
        ("wind_speed_ms", "settlement_mm", "noise_db"),
        ("construction_complaint",),
    ),
    "chemical-store": (
        ("storage_temp_c", "toxic_gas_ppm", "tank_level_pct"),
        ("hazmat_route_deviation",),
    ),
    "cold-chain": (("cold_storage_temp_c",), ("kitchen_inspection_failed",)),
    "elderly-home": (
        ("water_use_lph", "activity_events_h", "fall_detector"),
        ("welfare_visit_missed",),
    ),
}
#: what every grid cell has: streets, an underpass, drains, a river gauge, a hydrant
CELL_KINDS = (
    "water_depth_cm",
    "river_level_m",
    "rain_mm_h",
    "drain_level_cm",
    "hydrant_pressure_mpa",
    "road_speed_kmh",
    "road_surface_temp_c",
    "axle_load_t",
)
CELL_RECORDS = ("dispute_call", "petition_filed", "traffic_accident")

DEPARTMENT_OF = {
    "fire_inspection_failed": "fire",
    "fire_exit_blocked_report": "fire",
    "gas_alarm_report": "gas",
    "rental_registration": "housing",
    "rental_complaint": "housing",
    "utility_occupancy": "utility",
    "kitchen_inspection_failed": "market",
    "kitchen_camera_violation": "market",
    "food_illness_report": "health",
    "safety_certificate_expired": "safety",
    "production_activity_report": "safety",
    "wage_arrears_complaint": "labour",
    "construction_complaint": "urban",
    "hazmat_route_deviation": "transport",
    "traffic_accident": "traffic-police",
    "dispute_call": "police",
    "violence_report": "police",
    "petition_filed": "petitions",
    "welfare_visit_missed": "civil-affairs",
}

#: record incidents: (risk point, where, records as (event type, attributes), minutes apart)
RECORD_INCIDENTS: tuple[tuple[str, str, tuple[tuple[str, dict[str, Any]], ...]], ...] = (
    (
        "gas_alarm_after_failed_inspection",
        "restaurant",
        (("fire_inspection_failed", {"items": 3}), ("gas_alarm_report", {"alarm_level": 2})),
    ),
    (
        "rental_overcrowding",
        "rental-flat",
        (
            ("rental_registration", {"declared_tenants": 2}),
            ("utility_occupancy", {"estimated_occupants": 11}),
        ),
    ),
    (
        "operating_with_expired_certificate",
        "factory",
        (("safety_certificate_expired", {}), ("production_activity_report", {"shift": "night"})),
    ),
    (
        "dispute_turning_violent",
        "cell",
        (("dispute_call", {"parties": 2}), ("violence_report", {"injured": 1})),
    ),
)


@dataclass(frozen=True)
class Place:
    place_id: str
    town: str
    community: str
    industry: str  # "cell" for a grid cell


@dataclass(frozen=True)
class Sensor:
    sensor_id: str
    kind: str
    place: Place


@dataclass(frozen=True)
class Window:
    """An incident or a fault on one sensor (or records at one place)."""

    type: str  # "incident" or "fault"
    name: str  # risk point (incident) or fault kind
    start: datetime
    end: datetime
    sensor: Sensor | None = None
    place: Place | None = None

    def covers(self, t: datetime) -> bool:
        return self.start <= t < self.end

    def truth(self, catalogue: Catalogue) -> dict[str, Any]:
        place = self.place or (self.sensor.place if self.sensor else None)
        assert place is not None
        doc: dict[str, Any] = {
            "type": self.type,
            "id": f"{self.type}-{self.name}-"
            f"{self.sensor.sensor_id if self.sensor else place.place_id}-{self.start:%Y%m%dT%H%M}",
        }
        if self.type == "incident":
            doc["risk_point"] = self.name
            doc["module"] = catalogue.risk_point(self.name).module
        else:
            doc["fault"] = self.name
        doc.update(
            place_id=place.place_id,
            town=place.town,
            community=place.community,
            industry=place.industry,
            sensor_id=self.sensor.sensor_id if self.sensor else None,
            sensor_kind=self.sensor.kind if self.sensor else None,
            start=self.start.isoformat(),
            end=self.end.isoformat(),
        )
        return doc


@dataclass
class District:
    towns: int = 2
    communities: int = 3  # per town
    cells: int = 2  # per community
    sites: int = 7  # per community, one industry after another
    hours: float = 6.0
    interval_s: float = 60.0
    incidents: int = 12
    fault_rate: float = 0.05  # share of sensors with one fault
    records_per_place_day: float = 1.0
    warmup_h: float = 2.0  # no incident before: learned detectors warm up first
    seed: int = 0
    start: datetime = field(default_factory=lambda: datetime.fromisoformat(DEFAULT_START))

    def check(self) -> None:
        for name in ("towns", "communities", "cells", "sites"):
            if getattr(self, name) < 1:
                raise ConfigError(f"simulate: --{name} must be >= 1")
        if not 1 <= self.towns <= len(TOWNS):
            raise ConfigError(f"simulate: --towns must be within [1, {len(TOWNS)}]")
        if not self.hours > 0 or not self.interval_s > 0:
            raise ConfigError("simulate: --hours and --interval-s must be > 0")
        if self.incidents < 0 or not 0 <= self.fault_rate <= 1:
            raise ConfigError("simulate: --incidents >= 0 and --fault-rate within [0, 1]")
        if self.records_per_place_day < 0:
            raise ConfigError("simulate: --records-per-place-day must be >= 0")
        if self.start.tzinfo is None:
            raise ConfigError("simulate: --start needs a UTC offset")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


class Simulation:
    """The district's places, sensors, incidents and faults; ``events()`` in time order."""

    def __init__(self, district: District, catalogue: Catalogue | None = None) -> None:
        district.check()
        self.d = district
        self.catalogue = catalogue or load_catalogue()
        self.profiles = self._profiles()
        rng = random.Random(f"yujing-sim:{district.seed}")
        self.places: list[Place] = []
        self.sensors: list[Sensor] = []
        industries = list(INDUSTRIES)
        n = 0
        for town in TOWNS[: district.towns]:
            for c in range(district.communities):
                community = f"{town}.c{c + 1:02d}"
                for k in range(district.cells):
                    self._add(Place(f"cell.{community}.{k + 1:02d}", town, community, "cell"))
                for s in range(district.sites):
                    industry = industries[(n + s) % len(industries)]
                    self._add(
                        Place(f"site.{community}.{industry}-{s + 1:02d}", town, community, industry)
                    )
                n += district.sites
        self.windows: list[Window] = self._plan(rng)

    def _profiles(self) -> dict[str, Profile]:
        kinds = {
            rp.source.sensor_kind: rp.id
            for rp in self.catalogue.risk_points
            if rp.source.sensor_kind
        }
        missing = sorted(set(kinds) - set(PROFILES))
        if missing:
            raise ConfigError(f"simulate: no sensor profile for catalogue kinds {missing}")
        from dataclasses import replace

        return {k: replace(PROFILES[k], risk_point=rp) for k, rp in kinds.items()}

    def _add(self, place: Place) -> None:
        self.places.append(place)
        kinds = CELL_KINDS if place.industry == "cell" else INDUSTRIES[place.industry][0]
        for kind in kinds:
            if kind in self.profiles:
                self.sensors.append(Sensor(f"{kind}-{len(self.sensors) + 1:05d}", kind, place))

    def _plan(self, rng: random.Random) -> list[Window]:
        d = self.d
        windows: list[Window] = []
        earliest = d.start + timedelta(hours=min(d.warmup_h, d.hours / 2))
        span = (d.end - earliest).total_seconds()
        busy: set[str] = set()
        record_places = {
            ind: [p for p in self.places if p.industry == ind]
            for ind in {where for _, where, _ in RECORD_INCIDENTS}
        }
        for i in range(d.incidents):
            if i % 4 == 3:  # every fourth incident comes from department records
                rp, where, _records = RECORD_INCIDENTS[(i // 4) % len(RECORD_INCIDENTS)]
                candidates = [p for p in record_places[where] if p.place_id not in busy]
                if not candidates:
                    continue
                place = rng.choice(candidates)
                busy.add(place.place_id)
                start = _second(earliest + timedelta(seconds=rng.uniform(0, span * 0.9)))
                windows.append(
                    Window("incident", rp, start, start + timedelta(minutes=30), place=place)
                )
                continue
            free = [
                s
                for s in self.sensors
                if s.sensor_id not in busy and self.profiles[s.kind].incident_min * 60 <= span * 0.9
            ]
            if not free:
                break
            sensor = rng.choice(free)
            busy.add(sensor.sensor_id)
            prof = self.profiles[sensor.kind]
            minutes = prof.incident_min * rng.uniform(1.0, 1.5)
            length = min(timedelta(minutes=minutes), timedelta(seconds=span * 0.9))
            start = earliest + timedelta(
                seconds=rng.uniform(0, max(0.0, span - length.total_seconds()))
            )
            windows.append(
                Window("incident", prof.risk_point, start, start + length, sensor=sensor)
            )
        for sensor in self.sensors:
            if sensor.sensor_id in busy or rng.random() >= d.fault_rate:
                continue
            fault = rng.choice(("stuck", "dropout", "spike"))
            minutes = {"stuck": 60.0, "dropout": 30.0, "spike": d.interval_s / 60}[fault]
            start = _second(d.start + timedelta(seconds=rng.uniform(0, d.hours * 3600 * 0.9)))
            windows.append(
                Window("fault", fault, start, start + timedelta(minutes=minutes), sensor=sensor)
            )
        return sorted(windows, key=lambda w: (w.start, w.name))

    def truth(self) -> list[dict[str, Any]]:
        return [w.truth(self.catalogue) for w in self.windows]

    def summary(self) -> dict[str, Any]:
        towns = {p.town for p in self.places}
        return {
            "towns": len(towns),
            "communities": len({p.community for p in self.places}),
            "cells": sum(p.industry == "cell" for p in self.places),
            "sites": sum(p.industry != "cell" for p in self.places),
            "sensors": len(self.sensors),
            "sensor_kinds": len({s.kind for s in self.sensors}),
            "incidents": sum(w.type == "incident" for w in self.windows),
            "faults": sum(w.type == "fault" for w in self.windows),
            "readings": sum(
                len(range(0, self._steps(), self.profiles[s.kind].every)) for s in self.sensors
            ),
        }

    def expected_signals(self) -> list[RiskSignal]:
        """What the pipeline's own detection core makes of these events (in process)."""
        detection = Detection(self.catalogue)
        states: dict[str, str] = {}
        signals: list[RiskSignal] = []
        for e in self.events():
            if isinstance(e, SensorReading):
                key = "sensor:" + e.sensor_id
                states[key], out = detection.on_reading(e, states.get(key), e.event_time)
            else:
                assert isinstance(e, DepartmentEvent)
                key = "place:" + e.place_id
                states[key], out = detection.on_department_event(e, states.get(key), e.event_time)
            signals += out
        return signals

    def _steps(self) -> int:
        return int(self.d.hours * 3600 // self.d.interval_s)

    def events(self) -> Iterator[Event]:
        """Every reading and department record, in event-time order (ties: by id)."""
        streams: list[Iterable[tuple[datetime, str, Event]]] = [
            self._readings(s) for s in self.sensors
        ]
        streams.append(self._records())
        for _, _, event in heapq.merge(*streams, key=lambda x: (x[0], x[1])):
            yield event

    def _readings(self, sensor: Sensor) -> Iterator[tuple[datetime, str, Event]]:
        d = self.d
        prof = self.profiles[sensor.kind]
        rng = random.Random(f"yujing-sim:{d.seed}:{sensor.sensor_id}")
        mine = [w for w in self.windows if w.sensor is sensor]
        phase = rng.uniform(-0.5, 0.5)  # hours: no two sensors peak at the same minute
        level = prof.base * rng.uniform(0.9, 1.1) if prof.base else prof.base
        stuck: float | None = None
        for i in range(self._steps()):
            if i % prof.every:
                continue
            t = d.start + timedelta(seconds=i * d.interval_s)
            hour = (t.hour + t.minute / 60 + phase) % 24
            value = level + prof.amplitude * math.cos(2 * math.pi * (hour - prof.peak_hour) / 24)
            value += rng.gauss(0.0, prof.noise) if prof.noise else 0.0
            active = [w for w in mine if w.covers(t)]
            for w in active:
                if w.type == "incident":
                    if prof.mode == "set":
                        value = prof.incident + rng.gauss(0.0, prof.noise) * 0.5
                    elif prof.mode == "shift":
                        value += prof.incident
                    else:
                        value *= prof.incident
            if prof.floor is not None:
                value = max(prof.floor, value)
            fault = next((w.name for w in active if w.type == "fault"), None)
            if fault == "dropout":
                continue
            if fault == "stuck":
                stuck = value if stuck is None else stuck
                value = stuck
            else:
                stuck = None
            if fault == "spike":
                value = value * 3 + abs(prof.base) + 1
            reading_id = f"{sensor.sensor_id}-{i:06d}"
            yield (
                t,
                reading_id,
                SensorReading(
                    reading_id=reading_id,
                    sensor_id=sensor.sensor_id,
                    sensor_kind=sensor.kind,
                    place_id=sensor.place.place_id,
                    value=round(value, 4),
                    unit=prof.unit,
                    event_time=t,
                ),
            )

    def _records(self) -> Iterator[tuple[datetime, str, Event]]:
        d = self.d
        rng = random.Random(f"yujing-sim:{d.seed}:records")
        out: list[tuple[datetime, str, Event]] = []
        n = 0

        def record(t: datetime, place: Place, event_type: str, attrs: dict[str, Any]) -> None:
            nonlocal n
            n += 1
            event_id = f"rec-{n:07d}"
            out.append(
                (
                    t,
                    event_id,
                    DepartmentEvent(
                        event_id=event_id,
                        department=DEPARTMENT_OF[event_type],
                        event_type=event_type,
                        place_id=place.place_id,
                        attributes=attrs,
                        event_time=t,
                    ),
                )
            )

        rate = d.records_per_place_day / 86400.0
        for place in self.places:
            types = CELL_RECORDS if place.industry == "cell" else INDUSTRIES[place.industry][1]
            if rate <= 0 or not types:
                continue
            t = d.start
            while True:
                t += timedelta(seconds=rng.expovariate(rate))
                if t >= d.end:
                    break
                record(t.replace(microsecond=0), place, rng.choice(types), {})
        by_rp = {rp: recs for rp, _, recs in RECORD_INCIDENTS}
        for w in self.windows:
            if w.type == "incident" and w.place is not None:
                for k, (event_type, attrs) in enumerate(by_rp[w.name]):
                    t = w.start + timedelta(minutes=10 * k)
                    record(t.replace(microsecond=0), w.place, event_type, dict(attrs))
        out.sort(key=lambda x: (x[0], x[1]))
        yield from out


def _second(t: datetime) -> datetime:
    return t.replace(microsecond=0)


# --------------------------------------------------------------------------- output


def jsonl_line(event: Event) -> str:
    """One line of the JSONL format (see the module docstring)."""
    spec = spec_for(event)
    return json.dumps(
        {"topic": spec.name, "event": event.model_dump(mode="json")},
        ensure_ascii=False,
        separators=(",", ":"),
    )


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a line per 10 % otherwise."""

    def __init__(self, total: int, stream: IO[str] | None = None, enabled: bool = True) -> None:
        self.total, self.stream, self.enabled = max(total, 1), stream or sys.stderr, enabled
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = -1

    def update(self, done: int, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        decile = min(10, done * 10 // self.total)
        if not final and (now - self._last_draw < 0.1 if self.tty else decile == self._last_decile):
            return
        self._last_draw, self._last_decile = now, decile
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        frac = min(1.0, done / self.total)
        bar = "#" * int(frac * 30) + "." * (30 - int(frac * 30))
        eta = (self.total - done) / rate if rate > 0 and done < self.total else 0.0
        text = f"[{bar}] {frac:4.0%} {done:,}/{self.total:,} events  {rate:,.0f}/s  ETA {eta:,.0f}s"
        if final:
            self.total = max(done, 1)
            frac = 1.0
            bar = "#" * 30
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


class Pacer:
    """Waits so that events leave at event time / ``speed`` and at most ``rate`` per second."""

    def __init__(
        self,
        start: datetime,
        speed: float,
        rate: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.start, self.speed, self.rate = start, speed, rate
        self.sleep, self.clock = sleep, clock
        self.t0 = clock()
        self.sent = 0

    def wait(self, event_time: datetime) -> None:
        due = self.t0
        if self.speed > 0:
            due = max(due, self.t0 + (event_time - self.start).total_seconds() / self.speed)
        if self.rate > 0:
            due = max(due, self.t0 + self.sent / self.rate)
        delay = due - self.clock()
        if delay > 0.001:
            self.sleep(delay)
        self.sent += 1


def run(
    sim: Simulation,
    emit: Callable[[Event], None],
    *,
    speed: float = 0.0,
    rate: float = 0.0,
    progress: Progress | None = None,
) -> int:
    pacer = Pacer(sim.d.start, speed, rate)
    n = 0
    for event in sim.events():
        pacer.wait(event.event_time)
        emit(event)
        n += 1
        if progress is not None:
            progress.update(n)
    if progress is not None:
        progress.update(n, final=True)
    return n


# --------------------------------------------------------------------------- command


def add_simulate_command(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="a synthetic district: sensors, department records, incidents → Kafka or JSONL",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="write JSONL here ('-' = stdout)")
    where.add_argument(
        "--kafka",
        action="store_true",
        help="produce to Kafka ($YUJING_KAFKA_BOOTSTRAP, topics with $YUJING_TOPIC_PREFIX)",
    )
    p.add_argument("--truth", type=Path, help="ground truth JSONL (default: next to --out)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", default=DEFAULT_START, help="ISO-8601 with offset, or 'now'")
    p.add_argument("--hours", type=float, default=6.0, help="simulated duration")
    p.add_argument("--interval-s", type=float, default=60.0, help="seconds between readings")
    p.add_argument("--towns", type=int, default=2)
    p.add_argument("--communities", type=int, default=3, help="per town")
    p.add_argument("--cells", type=int, default=2, help="grid cells per community")
    p.add_argument("--sites", type=int, default=7, help="sites per community")
    p.add_argument("--incidents", type=int, default=12)
    p.add_argument("--fault-rate", type=float, default=0.05, help="share of sensors with a fault")
    p.add_argument("--records-per-place-day", type=float, default=1.0)
    p.add_argument(
        "--speed", type=float, default=0.0, help="1 = recorded speed, 60 = 60x, 0 = no pacing"
    )
    p.add_argument("--rate", type=float, default=0.0, help="max events per wall second (0: none)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_simulate)


def _parse_start(raw: str) -> datetime:
    if raw == "now":
        return datetime.now(UTC).replace(microsecond=0)
    return parse_instant(raw, "simulate: --start")


def _simulate(args: argparse.Namespace) -> int:
    import os

    if args.speed < 0 or args.rate < 0:
        raise ConfigError("simulate: --speed and --rate must be >= 0")
    district = District(
        towns=args.towns,
        communities=args.communities,
        cells=args.cells,
        sites=args.sites,
        hours=args.hours,
        interval_s=args.interval_s,
        incidents=args.incidents,
        fault_rate=args.fault_rate,
        records_per_place_day=args.records_per_place_day,
        seed=args.seed,
        start=_parse_start(args.start),
    )
    sim = Simulation(district)
    info = sim.summary()
    err = sys.stderr
    print(
        "yujing simulate: "
        + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in info.items())
        + f"; {district.start.isoformat()} + {district.hours:g} h",
        file=err,
    )
    truth_path = args.truth
    if truth_path is None and args.out is not None and str(args.out) != "-":
        truth_path = args.out.with_suffix(".truth.jsonl")
    if truth_path is not None:
        truth_path.write_text("".join(json.dumps(t) + "\n" for t in sim.truth()), encoding="utf-8")
        print(f"ground truth: {truth_path}", file=err)
    total = info["readings"] + _count_records(sim)
    progress = Progress(total, err, enabled=not args.quiet)
    if args.out is not None:
        with contextlib.ExitStack() as stack:
            out: IO[str] = (
                sys.stdout
                if str(args.out) == "-"
                else stack.enter_context(open(args.out, "w", encoding="utf-8"))
            )
            n = run(
                sim,
                lambda e: print(jsonl_line(e), file=out),
                speed=args.speed,
                rate=args.rate,
                progress=progress,
            )
        print(f"wrote {n:,} events to {args.out}", file=err)
        return 0
    from streams.kafka_io import Producer, ensure_topics
    from streams.settings import Settings

    settings = Settings.from_env()
    bootstrap = os.environ.get("YUJING_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    ensure_topics(bootstrap, settings.topic_prefix, settings.partitions)
    producer = Producer(bootstrap, settings.topic_prefix)
    print(
        f"producing to {bootstrap} (prefix {settings.topic_prefix!r}); a worker on the same "
        f"clock: YUJING_CLOCK_EPOCH={district.start.isoformat()} "
        f"YUJING_CLOCK_SPEED={args.speed or 1:g}",
        file=err,
    )
    try:
        n = run(sim, producer.send, speed=args.speed, rate=args.rate, progress=progress)
        producer.flush()
    finally:
        producer.close()
    print(f"produced {n:,} events", file=err)
    return 0


def _count_records(sim: Simulation) -> int:
    return sum(1 for _ in sim._records())


__all__ = ["District", "Simulation", "add_simulate_command", "jsonl_line"]
