"""The district day as it happens: every device's reports and every department record,
released as the simulated clock reaches them, with the people's fixes taking effect.

(**reading** / **department event** → signal → alert → order → notification.)
The day's incidents come from :mod:`streams.tools.simulate.mix`, the devices and their
faults from :mod:`streams.tools.simulate.device` and :mod:`streams.tools.simulate.history` (the same
fault rates as the past). Nothing is computed ahead of its time: a report's
value is drawn when the clock reaches it, so a fault fixed at 10:02 makes the
10:04 report healthy. A rate incident (a burst of complaints, ...) goes on
until someone acts on it; a collision files its two contradicting records.
:meth:`LiveWorld.truth` gives the ground truth with each incident's actual end.
Pure apart from the caller's clock.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas import DepartmentEvent, Event, SensorReading
from streams.core.shared.catalogue import Catalogue
from streams.tools.simulate.device import Device, Episode
from streams.tools.simulate.history import RECORDS_PER_TYPE_DAY, faults
from streams.tools.simulate.mix import Incident
from streams.tools.simulate.profiles import RECORD_GAP_MIN, RECORD_INCIDENTS, Profile
from streams.tools.simulate.world import Place, World

#: minutes between the records of a burst (a rate incident), on average
BURST_GAP_MIN = 25.0


@dataclass
class LiveWorld:
    """The day's devices, places and incidents; :meth:`due` releases what has happened."""

    world: World
    catalogue: Catalogue
    profiles: dict[str, Profile]
    incidents: list[Incident]
    start: datetime
    end: datetime
    seed: int = 0
    devices: dict[str, Device] = field(default_factory=dict)
    sent: int = 0

    def __post_init__(self) -> None:
        self._heap: list[tuple[datetime, int, str, str]] = []
        self._seq = 0
        self._rng = random.Random(f"yujing-day:{self.seed}:records")
        self._records = 0
        self._place_incidents: dict[str, Incident] = {}
        self._by_sensor: dict[str, list[Incident]] = {}
        self.fault_episodes: list[tuple[str, Episode]] = []
        self.places = {p.place_id: p for p in self.world.places}
        self._place_of = {s.sensor_id: s.place.place_id for s in self.world.sensors}
        for s in self.world.sensors:
            dev = self.devices.get(s.sensor_id) or Device.make(
                s.sensor_id, s.kind, self.profiles[s.kind], self.seed
            )
            self.devices[s.sensor_id] = dev
            rng = random.Random(f"yujing-day:{self.seed}:{s.sensor_id}:faults")
            for e in faults(rng, self.start, self.end):
                dev.episodes.append(e)
                self.fault_episodes.append((s.sensor_id, e))
        for inc in self.incidents:
            if inc.risk_kind != "single":
                continue
            if inc.sensor is not None:
                ep = Episode("incident", inc.start, inc.end)
                self.devices[inc.sensor.sensor_id].episodes.append(ep)
                self._by_sensor.setdefault(inc.sensor.sensor_id, []).append(inc)
            elif inc.place is not None:
                self._place_incidents[inc.place.place_id] = inc
                self._push(inc.start, "x", inc.place.place_id)
        for sid, dev in self.devices.items():
            self._push(dev.next_report(self.start - timedelta(microseconds=1)), "r", sid)
        for p in self.world.places:
            self._next_background(p, self.start)

    # -- the heap -----------------------------------------------------------------------

    def _push(self, t: datetime, kind: str, key: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, key))

    def _next_background(self, place: Place, after: datetime) -> None:
        types = self.world.records_of(place)
        if types:
            gap = self._rng.expovariate(RECORDS_PER_TYPE_DAY * len(types))
            self._push(after + timedelta(days=gap), "b", place.place_id)

    def next_time(self) -> datetime | None:
        """When the next event happens (``None``: the day has nothing more)."""
        while self._heap and self._heap[0][0] >= self.end:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def due(self, now: datetime) -> Iterator[Event]:
        """Every event with an event time at or before ``now``, in time order."""
        while self._heap and self._heap[0][0] <= now:
            t, _, kind, key = heapq.heappop(self._heap)
            if t >= self.end:
                continue
            if kind == "r":
                yield self._reading(key, t)
            elif kind == "b":
                place = self.places[key]
                yield self._record(place, self._rng.choice(self.world.records_of(place)), t, {})
                self._next_background(place, t)
            else:
                yield from self._incident_records(key, t)
            self.sent += 1

    def _reading(self, sensor_id: str, t: datetime) -> SensorReading:
        dev = self.devices[sensor_id]
        value, values = dev.read(t)
        self._push(dev.next_report(t), "r", sensor_id)
        s = dev.prof
        return SensorReading(
            reading_id=f"{sensor_id}-{dev.sent:06d}",
            sensor_id=sensor_id,
            sensor_kind=dev.kind,
            place_id=self._place_of[sensor_id],
            value=value,
            unit=s.unit,
            values=values,
            event_time=t,
        )

    def _record(
        self, place: Place, event_type: str, t: datetime, attrs: dict[str, Any]
    ) -> DepartmentEvent:
        self._records += 1
        return DepartmentEvent(
            event_id=f"rec-{self.seed}-{self._records:07d}",
            department=self.world.department(event_type),
            event_type=event_type,
            place_id=place.place_id,
            attributes=attrs,
            event_time=t,
        )

    def _incident_records(self, place_id: str, t: datetime) -> Iterator[DepartmentEvent]:
        inc = self._place_incidents[place_id]
        if inc.fixed_at is not None and t >= inc.fixed_at:
            return
        place = self.places[place_id]
        collisions = {rp: recs for rp, _, recs in RECORD_INCIDENTS}
        if inc.risk_point in collisions:
            for k, (event_type, attrs) in enumerate(collisions[inc.risk_point]):
                at = t + timedelta(minutes=RECORD_GAP_MIN * k)
                yield self._record(place, event_type, at, dict(attrs))
            return
        rp = self.catalogue.risk_point(inc.risk_point)
        event_type = sorted(rp.source.event_types or ())[0]
        yield self._record(place, event_type, t, {})
        gap = self._rng.expovariate(1 / BURST_GAP_MIN)
        self._push(t + timedelta(minutes=gap), "x", place_id)

    # -- what the people do -------------------------------------------------------------

    def fix_sensor(self, sensor_id: str, t: datetime) -> bool:
        """Someone fixed the hazard at a sensor at ``t``: its incident ends there."""
        dev = self.devices.get(sensor_id)
        if dev is None or not dev.fix(t):
            return False
        for inc in self._by_sensor.get(sensor_id, []):
            if inc.fixed_at is None and inc.start <= t:
                inc.fixed_at = t
        return True

    def fix_place(self, place_id: str, t: datetime) -> bool:
        """Someone dealt with a place's burst of records at ``t``: it stops."""
        inc = self._place_incidents.get(place_id)
        if inc is None or inc.fixed_at is not None or inc.start > t:
            return False
        inc.fixed_at = t
        return True

    # -- ground truth -------------------------------------------------------------------

    def truth(self) -> list[dict[str, Any]]:
        """The ground truth (streams.tools.report.groundtruth): the district, every incident with
        its actual end, every fault."""
        dept = {m: d.id for m, d in self.world.model.department_of_module.items()}
        lines: list[dict[str, Any]] = [
            {
                "type": "district",
                "sensors": len(self.world.sensors),
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
            }
        ]
        for inc in self.incidents:
            lines.append(self._incident_truth(inc, dept))
        for sensor_id, e in self.fault_episodes:
            place = self._place_of[sensor_id]
            lines.append(
                {
                    "type": "fault",
                    "id": f"fault-{e.kind}-{sensor_id}-{e.start:%Y%m%dT%H%M}",
                    "fault": e.kind,
                    "place_id": place,
                    "sensor_id": sensor_id,
                    "sensor_kind": self.devices[sensor_id].kind,
                    "start": e.start.isoformat(),
                    "end": (e.end or self.end).isoformat(),
                }
            )
        return lines

    def _ended(self, inc: Incident) -> datetime:
        """When an incident actually ended; a group: when its last member did."""
        if not inc.members:
            return inc.ended(self.end)
        ids = set(inc.members)
        ends = [m.ended(self.end) for m in self.incidents if m.id in ids]
        return max(ends, default=inc.ended(self.end))

    def _incident_truth(self, inc: Incident, dept: dict[str, str]) -> dict[str, Any]:
        place = inc.place or (inc.sensor.place if inc.sensor else None)
        if inc.risk_kind == "compound" and inc.scope is not None:
            place = self.places.get(inc.scope)  # a compound incident's scope is its place
        doc: dict[str, Any] = {
            "type": "incident",
            "id": inc.id,
            "risk_point": inc.risk_point,
            "module": inc.module,
            "risk_kind": inc.risk_kind,
            "department": dept.get(inc.module),
            "start": inc.start.isoformat(),
            "end": self._ended(inc).isoformat(),
        }
        if place is not None:
            doc.update(
                place_id=place.place_id,
                town=place.town,
                community=place.community,
                industry=place.industry,
                grid_cell=place.grid_cell,
                site_kind=place.kind,
                district=place.district,
                sensor_id=inc.sensor.sensor_id if inc.sensor else None,
                sensor_kind=inc.sensor.kind if inc.sensor else None,
            )
        else:
            doc.update(
                place_id=inc.scope,
                town=inc.scope if inc.risk_kind == "regional" else None,
                industry=inc.scope if inc.risk_kind == "industry" else None,
            )
        if inc.members:
            doc["members"] = list(inc.members)
        if inc.group:
            doc["group"] = inc.group
        if inc.fixed_at is not None:
            doc["fixed_at"] = inc.fixed_at.isoformat()
        return doc


__all__ = ["LiveWorld"]
