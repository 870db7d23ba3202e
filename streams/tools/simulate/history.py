"""The district's past: normal life before the simulated day, learnt into baselines.

(**reading** / **department event** → signal.) A district day is a day in the
life of a running district, so its learned detectors have seen the days
before it. The same devices (:mod:`streams.tools.simulate.device`: their profiles,
heartbeats, random phases and levels) report through ``days`` of normal life
with the usual sensor faults and no incidents; the places file their
department records at their background rate over ``record_days`` (a rate
detector judging 30-day windows needs months of them). The detection core
learns it all (:mod:`streams.core.baseline`); the worker starts each key from
the result. Only keys whose detectors need warming are learnt: a fresh
threshold detector already judges. Pure; deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from streams.core.shared.catalogue import Catalogue
from streams.core.signals import baseline
from streams.core.signals.detect import Detection, KeyState
from streams.core.signals.detectors import Point, Record
from streams.tools.simulate.device import Device, Episode
from streams.tools.simulate.world import Place, World

#: faults per sensor-day, by kind of fault (the day uses the same rates)
FAULT_RATES = {"dropout": 0.01, "stuck": 0.003, "spike": 0.0005}
#: how long a fault lasts, minutes (a spike is one sample)
FAULT_MIN = {"dropout": 30.0, "stuck": 60.0, "spike": 0.0}
#: department records per place, per record type the place files, per day
RECORDS_PER_TYPE_DAY = 1 / 30


@dataclass(frozen=True)
class History:
    """``days`` of readings and ``record_days`` of records before ``start``."""

    start: datetime
    days: float = 7.0
    record_days: float = 200.0
    seed: int = 0


def needs_history(catalogue: Catalogue) -> tuple[set[str], set[str]]:
    """(sensor kinds, record event types) some risk point of which is cold when fresh."""
    kinds: set[str] = set()
    types: set[str] = set()
    for rp in catalogue.risk_points:
        det = rp.detector.cls.from_params(dict(rp.detector.params))
        if det.is_warm():
            continue
        if rp.source.sensor_kind:
            kinds.add(rp.source.sensor_kind)
        types.update(rp.source.event_types or ())
    return kinds, types


def faults(
    rng: random.Random, start: datetime, end: datetime, rates: dict[str, float] = FAULT_RATES
) -> list[Episode]:
    """A device's faults over [start, end): each kind a Poisson number of times."""
    out = []
    for kind, rate in sorted(rates.items()):
        t = start
        while True:
            t += timedelta(days=rng.expovariate(rate)) if rate > 0 else end - start
            if t >= end:
                break
            t = t.replace(microsecond=0)
            length = timedelta(minutes=FAULT_MIN[kind]) or timedelta(seconds=1)
            out.append(Episode(kind, t, t + length))
    return sorted(out, key=lambda e: e.start)


def readings(device: Device, start: datetime, end: datetime) -> Iterator[Point]:
    """A device's reports over [start, end), as detector points (a station's channels as
    the detection core makes them of a reading: ``value`` and every channel)."""
    t = device.next_report(start - timedelta(microseconds=1))
    while t < end:
        value, values = device.read(t)
        yield Point(t, value, {"value": value, **values} if values else {}, "")
        t = device.next_report(t)


def records(
    place: Place, world: World, rng: random.Random, start: datetime, end: datetime
) -> Iterator[Record]:
    """A place's background department records over [start, end), in time order."""
    types = world.records_of(place)
    if not types:
        return
    rate = RECORDS_PER_TYPE_DAY * len(types)
    t = start
    while True:
        t += timedelta(days=rng.expovariate(rate))
        if t >= end:
            return
        event_type = rng.choice(types)
        yield Record(t, world.department(event_type), event_type, {}, "")


def learn(
    world: World, catalogue: Catalogue, devices: dict[str, Device], h: History
) -> baseline.Baselines:
    """The baselines of every key whose detectors need warming, after ``h``."""
    detection = Detection(catalogue, seed=h.seed)
    kinds, types = needs_history(catalogue)
    sensors: dict[str, KeyState] = {}
    begin = h.start - timedelta(days=h.days)
    for sensor in world.sensors:
        if sensor.kind not in kinds:
            continue
        past = devices[sensor.sensor_id].past()
        past.episodes = faults(past.rng, begin, h.start)
        state = baseline.learn_sensor(detection, sensor.kind, readings(past, begin, h.start))
        if state is not None:
            sensors[sensor.sensor_id] = state
    places: dict[str, KeyState] = {}
    since = h.start - timedelta(days=h.record_days)
    rng = random.Random(f"yujing-history:{h.seed}:records")
    for place in world.places:
        if not types & set(world.records_of(place)):
            continue
        state = baseline.learn_place(detection, records(place, world, rng, since, h.start))
        if state is not None:
            places[place.place_id] = state
    return baseline.Baselines(sensors, places, h.start)


__all__ = [
    "FAULT_RATES",
    "History",
    "faults",
    "learn",
    "needs_history",
    "readings",
    "records",
]
