"""The simulated day: every sensor's readings and every department record, in time order.

(**reading** / **department event** → signal → alert → order → notification.)
The places and sensors are the district model's (:mod:`streams.tools.simulate.world`);
each sensor follows its kind's daily profile with noise and the incidents and
faults of the plan (:mod:`streams.tools.simulate.plan`); departments file records about
places at a background rate, and record incidents file colliding records.
Deterministic for a seed, a start time and the slice: every value comes from
generators seeded from ``(seed, sensor)``.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from schemas import DepartmentEvent, Event, RiskSignal, SensorReading
from streams.core.shared.catalogue import Catalogue, load_catalogue
from streams.core.shared.config import ConfigError
from streams.core.shared.district import DistrictModel
from streams.core.signals.detect import Detection
from streams.tools.simulate.plan import Planner, Window
from streams.tools.simulate.profiles import PROFILES, RECORD_GAP_MIN, RECORD_INCIDENTS, Profile
from streams.tools.simulate.stations import CHANNEL_MODELS, station_reading
from streams.tools.simulate.world import Place, Sensor, Slice, World, default_model

DEFAULT_START = "2026-03-02T00:00:00+08:00"


@dataclass
class District:
    """What to simulate: a slice of the district model (``None``: all of it), for how long."""

    towns: int | None = 2
    communities: int | None = 3  # per town
    cells: int | None = 2  # per community
    sites: int | None = 7  # per community, one kind after another
    hours: float = 6.0
    interval_s: float = 60.0
    incidents: int = 12
    #: group incidents the systemic rules should see (see streams.tools.simulate.plan)
    regional: int = 0
    industry: int = 0
    compound: int = 0
    fault_rate: float = 0.05  # share of sensors with one fault
    records_per_place_day: float = 1.0
    warmup_h: float = 2.0  # no incident before: learned detectors warm up first
    seed: int = 0
    start: datetime = field(default_factory=lambda: datetime.fromisoformat(DEFAULT_START))

    @property
    def slice(self) -> Slice:
        return Slice(self.towns, self.communities, self.cells, self.sites)

    def check(self) -> None:
        if not self.hours > 0 or not self.interval_s > 0:
            raise ConfigError("simulate: --hours and --interval-s must be > 0")
        if min(self.incidents, self.regional, self.industry, self.compound) < 0:
            raise ConfigError(
                "simulate: --incidents, --regional, --industry and --compound must be >= 0"
            )
        if not 0 <= self.fault_rate <= 1:
            raise ConfigError("simulate: --fault-rate must be within [0, 1]")
        if self.records_per_place_day < 0:
            raise ConfigError("simulate: --records-per-place-day must be >= 0")
        if self.start.tzinfo is None:
            raise ConfigError("simulate: --start needs a UTC offset")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


class Simulation:
    """The district's places, sensors, incidents and faults; ``events()`` in time order."""

    def __init__(
        self,
        district: District,
        catalogue: Catalogue | None = None,
        model: DistrictModel | None = None,
    ) -> None:
        district.check()
        self.d = district
        self.catalogue = catalogue or load_catalogue()
        self.profiles = self._profiles()
        self.world = World(model or default_model(), district.slice, kinds=set(self.profiles))
        self.places: list[Place] = self.world.places
        self.sensors: list[Sensor] = self.world.sensors
        rng = random.Random(f"yujing-sim:{district.seed}")
        d = district
        planner = Planner(
            self.world,
            self.profiles,
            self.catalogue,
            rng,
            d.start,
            d.end,
            d.start + timedelta(hours=min(d.warmup_h, d.hours / 2)),
            d.interval_s,
        )
        windows = planner.groups("regional", d.regional) + planner.groups("industry", d.industry)
        windows += planner.compound(d.compound)
        windows += planner.singles(d.incidents) + planner.faults(d.fault_rate)
        self.windows: list[Window] = sorted(windows, key=lambda w: (w.start, w.name, w.id))
        self._by_sensor: dict[str, list[Window]] = {}
        for w in self.windows:
            if w.sensor is not None:
                self._by_sensor.setdefault(w.sensor.sensor_id, []).append(w)

    def _profiles(self) -> dict[str, Profile]:
        return self.profiles_for(self.catalogue)

    @staticmethod
    def profiles_for(catalogue: Catalogue) -> dict[str, Profile]:
        """Every sensor kind the catalogue watches, with the risk point it feeds."""
        kinds = {
            rp.source.sensor_kind: rp.id for rp in catalogue.risk_points if rp.source.sensor_kind
        }
        missing = sorted(set(kinds) - set(PROFILES))
        if missing:
            raise ConfigError(f"simulate: no sensor profile for catalogue kinds {missing}")
        return {k: replace(PROFILES[k], risk_point=rp) for k, rp in kinds.items()}

    def truth(self) -> list[dict[str, Any]]:
        model = self.world.model
        dept = {m: d.id for m, d in model.department_of_module.items()}
        return [w.truth(self.catalogue, dept.get) for w in self.windows]

    def summary(self) -> dict[str, Any]:
        return {
            **self.world.summary(),
            "incidents": sum(
                w.type == "incident" and w.risk_kind == "single" for w in self.windows
            ),
            "regional_incidents": sum(w.risk_kind == "regional" for w in self.windows),
            "industry_incidents": sum(w.risk_kind == "industry" for w in self.windows),
            "compound_incidents": sum(w.risk_kind == "compound" for w in self.windows),
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
        streams.append(self.records())
        for _, _, event in heapq.merge(*streams, key=lambda x: (x[0], x[1])):
            yield event

    def _readings(self, sensor: Sensor) -> Iterator[tuple[datetime, str, Event]]:
        d = self.d
        prof = self.profiles[sensor.kind]
        rng = random.Random(f"yujing-sim:{d.seed}:{sensor.sensor_id}")
        mine = self._by_sensor.get(sensor.sensor_id, [])
        phase = rng.uniform(-0.5, 0.5)  # hours: no two sensors peak at the same minute
        level = prof.base * rng.uniform(0.9, 1.1) if prof.base else prof.base
        stuck: tuple[float, dict[str, float]] | None = None
        for i in range(self._steps()):
            if i % prof.every:
                continue
            t = d.start + timedelta(seconds=i * d.interval_s)
            hour = (t.hour + t.minute / 60 + phase) % 24
            value = level + prof.amplitude * math.cos(2 * math.pi * (hour - prof.peak_hour) / 24)
            value += rng.gauss(0.0, prof.noise) if prof.noise else 0.0
            active = [w for w in mine if w.covers(t)]
            values: dict[str, float] = {}
            if prof.channels:  # a station: its load becomes every channel
                load = value if prof.floor is None else max(prof.floor, value)
                hit = next((w.start for w in active if w.type == "incident"), None)
                value, values = station_reading(prof.channels, load, hit, rng)
            for w in active:
                if w.type == "incident" and not prof.channels:
                    if prof.mode == "set":
                        value = prof.incident + rng.gauss(0.0, prof.noise) * 0.5
                    elif prof.mode == "shift":
                        value += prof.incident
                    else:
                        value *= prof.incident
            if prof.floor is not None and not prof.channels:
                value = max(prof.floor, value)
            fault = next((w.name for w in active if w.type == "fault"), None)
            if fault == "dropout":
                continue
            if fault == "stuck":
                stuck = (value, values) if stuck is None else stuck
                value, values = stuck
            else:
                stuck = None
            if fault == "spike":
                value = value * 3 + abs(prof.base) + 1
                if prof.channels:  # the main channel's meter, so its channel too
                    values = {**values, CHANNEL_MODELS[prof.channels].main: round(value, 4)}
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
                    values=values,
                    event_time=t,
                ),
            )

    def records(self) -> Iterator[tuple[datetime, str, Event]]:
        """Every department record with its event time and id, in that order."""
        d = self.d
        rng = random.Random(f"yujing-sim:{d.seed}:records")
        out: list[tuple[datetime, str, Event]] = []
        n = 0

        def record(t: datetime, place: Place, event_type: str, attrs: dict[str, Any]) -> None:
            nonlocal n
            n += 1
            event_id = f"rec-{n:07d}"
            event = DepartmentEvent(
                event_id=event_id,
                department=self.world.department(event_type),
                event_type=event_type,
                place_id=place.place_id,
                attributes=attrs,
                event_time=t,
            )
            out.append((t, event_id, event))

        rate = d.records_per_place_day / 86400.0
        for place in self.places:
            types = self.world.records_of(place)
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
                    t = w.start + timedelta(minutes=RECORD_GAP_MIN * k)
                    record(t.replace(microsecond=0), w.place, event_type, dict(attrs))
        out.sort(key=lambda x: (x[0], x[1]))
        yield from out
