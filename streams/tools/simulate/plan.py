"""What happens in the simulated district: incidents and faults, with their ground truth.

(**reading** / **department event** → signal → alert.) A plan is a list of
windows, each an incident (a risk point at a sensor or a place) or a fault
(stuck value, dropout, spike), drawn from one seeded generator. Besides single
incidents, a plan can hold *group* incidents — one cause hitting many places
at once, which the systemic rules should see:

- ``regional``: a cause (a cloudburst, ...) hits a cell sensor in as many
  communities of one town as the catalogue's regional rule needs (one more
  where the slice has them), all within one of its windows;
- ``industry``: a cause (a faulty batch of equipment, ...) hits a sensor at as
  many sites of one industry as the industry rule needs (one more where there
  are), within one window.

Each member is an ordinary incident (``risk_kind: single``) carrying its
``group``; the group has a line of its own (``risk_kind: regional`` /
``industry``) naming its scope and ``members``.

- ``compound``: one place (a site or a grid cell) has a member incident in
  each module of a compound rule it has a prompt source for (at least the
  rule's ``min_modules``), within one of the rule's windows
  (:mod:`streams.tools.simulate.compound`); its line's ``place_id`` is the place.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from streams.core.alerts.windows import to_dt, window_start
from streams.core.shared.catalogue import Catalogue
from streams.core.shared.config import ConfigError
from streams.tools.simulate import compound as stack
from streams.tools.simulate.profiles import RECORD_INCIDENTS, Profile
from streams.tools.simulate.world import Place, Sensor, World


@dataclass(frozen=True)
class Window:
    """An incident or a fault on one sensor (or records at one place), or a group incident."""

    type: str  # "incident" or "fault"
    name: str  # risk point (incident) or fault kind
    start: datetime
    end: datetime
    sensor: Sensor | None = None
    place: Place | None = None
    #: "single", or for a group incident "regional" / "industry"
    risk_kind: str = "single"
    #: members: the group incident they belong to
    group: str | None = None
    #: a group incident: its town or industry, its sensor kind and its members' ids
    scope: str | None = None
    kind: str | None = None
    members: tuple[str, ...] = ()
    #: a compound incident: its place (``place`` is only for record incidents)
    at: Place | None = None

    def covers(self, t: datetime) -> bool:
        return self.start <= t < self.end

    @property
    def id(self) -> str:
        if self.risk_kind != "single":
            return f"{self.type}-{self.risk_kind}-{self.scope}-{self.start:%Y%m%dT%H%M}"
        where = self.sensor.sensor_id if self.sensor else self.place.place_id  # type: ignore[union-attr]
        return f"{self.type}-{self.name}-{where}-{self.start:%Y%m%dT%H%M}"

    def truth(
        self, catalogue: Catalogue, department: Callable[[str], str | None]
    ) -> dict[str, Any]:
        """One line of the ground truth (keys are only ever added, never renamed)."""
        place = self.place or (self.sensor.place if self.sensor else None) or self.at
        doc: dict[str, Any] = {"type": self.type, "id": self.id}
        if self.type == "incident":
            doc["risk_point"] = self.name
            doc["module"] = catalogue.risk_point(self.name).module
        else:
            doc["fault"] = self.name
        if place is None:  # a group incident: where is its scope
            regional = self.risk_kind == "regional"
            doc.update(
                place_id=self.scope,
                town=self.scope if regional else None,
                community=None,
                industry=None if regional else self.scope,
                sensor_id=None,
                sensor_kind=self.kind,
            )
        else:
            doc.update(
                place_id=place.place_id,
                town=place.town,
                community=place.community,
                industry=place.industry,
                sensor_id=self.sensor.sensor_id if self.sensor else None,
                sensor_kind=self.sensor.kind if self.sensor else None,
            )
        doc.update(start=self.start.isoformat(), end=self.end.isoformat())
        if place is not None:
            doc.update(grid_cell=place.grid_cell, site_kind=place.kind, district=place.district)
        if self.type == "incident":
            doc.update(risk_kind=self.risk_kind, department=department(doc["module"]))
            if self.group:
                doc["group"] = self.group
            if self.members:
                doc["members"] = list(self.members)
        return doc


def _second(t: datetime) -> datetime:
    return t.replace(microsecond=0)


@dataclass
class Planner:
    """Draws a plan for ``world`` over [start, end) from ``rng``."""

    world: World
    profiles: dict[str, Profile]
    catalogue: Catalogue
    rng: random.Random
    start: datetime
    end: datetime
    earliest: datetime  # no incident before: learned detectors warm up first
    interval_s: float

    def __post_init__(self) -> None:
        self.busy: set[str] = set()
        self.span = (self.end - self.earliest).total_seconds()
        self._warm: dict[str, bool] = {}

    # -- single incidents ---------------------------------------------------------------

    def singles(self, count: int) -> list[Window]:
        rng, out = self.rng, []
        record_places = {
            where: [p for p in self.world.places if p.kind == where]
            for where in {w for _, w, _ in RECORD_INCIDENTS}
        }
        # sensors free for an incident that fits in the day; drawn without replacement
        free = [
            s
            for s in self.world.sensors
            if s.sensor_id not in self.busy
            and self.profiles[s.kind].incident_min * 60 <= self.span * 0.9
            and self._warm_in_time(s.kind)
        ]
        for i in range(count):
            if i % 4 == 3:  # every fourth incident comes from department records
                rp, where, _records = RECORD_INCIDENTS[(i // 4) % len(RECORD_INCIDENTS)]
                candidates = [p for p in record_places[where] if p.place_id not in self.busy]
                if not candidates:
                    continue
                place = rng.choice(candidates)
                self.busy.add(place.place_id)
                start = _second(self.earliest + timedelta(seconds=rng.uniform(0, self.span * 0.9)))
                out.append(
                    Window("incident", rp, start, start + timedelta(minutes=30), place=place)
                )
                continue
            if not free:
                break
            k = rng.randrange(len(free))
            sensor = free[k]
            free[k] = free[-1]
            free.pop()
            self.busy.add(sensor.sensor_id)
            prof = self.profiles[sensor.kind]
            minutes = prof.incident_min * rng.uniform(1.0, 1.5)
            length = min(timedelta(minutes=minutes), timedelta(seconds=self.span * 0.9))
            start = self.earliest + timedelta(
                seconds=rng.uniform(0, max(0.0, self.span - length.total_seconds()))
            )
            out.append(Window("incident", prof.risk_point, start, start + length, sensor=sensor))
        return out

    def _warm_in_time(self, kind: str) -> bool:
        """Whether the kind's detector can judge by the first incident: ``yujing simulate``
        has no history, and a detector wanting days of readings (``warmup_s``: a day for
        mahalanobis on a station, two for the catalogue's likelihood points) is still cold;
        an incident there would go unseen."""
        if kind not in self._warm:
            rp = self.catalogue.risk_point(self.profiles[kind].risk_point)
            det = rp.detector.cls.from_params(dict(rp.detector.params))
            need = float(getattr(det, "warmup_s", 0.0))
            self._warm[kind] = need <= (self.earliest - self.start).total_seconds()
        return self._warm[kind]

    # -- group incidents ----------------------------------------------------------------

    def _instant(self, kind: str) -> bool:
        """A kind whose incident its detector sees at once (a threshold, no hold time)."""
        rp = self.catalogue.risk_point(self.profiles[kind].risk_point)
        return (
            rp.detector.kind == "threshold"
            and not rp.trigger.for_s
            and self.profiles[kind].mode == "set"
        )

    def _rule(self, kind: str) -> Any:
        rules = [r for r in self.catalogue.systemic_rules if r.kind == kind]
        if not rules:
            raise ConfigError(f"simulate: --{kind} needs a {kind} rule in the catalogue")
        return min(rules, key=lambda r: (r.min_places, r.id))

    def groups(self, kind: str, count: int) -> list[Window]:
        """``count`` group incidents of ``kind`` (``regional`` or ``industry``)."""
        if count <= 0:
            return []
        rule = self._rule(kind)
        need = rule.min_places  # the rule's own threshold; one more member where there is room
        out: list[Window] = []
        for _ in range(count):
            # candidate scope → sensors grouped by member (community or site)
            scopes: dict[tuple[str, str], dict[str, list[Sensor]]] = {}
            for s in self.world.sensors:
                p = s.place
                if s.sensor_id in self.busy or p.place_id in self.busy or not self._instant(s.kind):
                    continue
                rp_module = self.catalogue.risk_point(self.profiles[s.kind].risk_point).module
                if rule.modules and rp_module not in rule.modules:
                    continue
                if kind == "regional" and p.is_cell:
                    scopes.setdefault((p.town, s.kind), {}).setdefault(p.community, []).append(s)
                elif kind == "industry" and not p.is_cell:
                    scopes.setdefault((p.industry, s.kind), {}).setdefault(p.place_id, []).append(s)
            fit = sorted(k for k, members in scopes.items() if len(members) >= need)
            if not fit:
                break
            scope, sensor_kind = self.rng.choice(fit)
            pool = sorted(scopes[(scope, sensor_kind)])
            chosen = self.rng.sample(pool, min(len(pool), need + 1))
            sensors = [self.rng.choice(scopes[(scope, sensor_kind)][m]) for m in chosen]
            out += self._group(kind, scope, sensor_kind, sensors, rule.window_s)
        return out

    def _group(
        self, kind: str, scope: str, sensor_kind: str, sensors: Sequence[Sensor], window_s: int
    ) -> list[Window]:
        rng, prof = self.rng, self.profiles[sensor_kind]
        spread = timedelta(minutes=10)  # the cause reaches every member within 10 minutes
        lead = timedelta(minutes=5)
        latest = self.end - timedelta(seconds=window_s)
        if latest < self.earliest:
            return []
        t = self.earliest + timedelta(
            seconds=rng.uniform(0, (latest - self.earliest).total_seconds())
        )
        w0 = to_dt(window_start(int(t.timestamp()), window_s)).astimezone(self.start.tzinfo)
        if w0 < self.earliest:
            w0 += timedelta(seconds=window_s)
        onset = w0 + lead
        if onset + spread >= self.end:
            return []
        members = []
        for s in sensors:
            self.busy.add(s.sensor_id)
            start = _second(onset + timedelta(seconds=rng.uniform(0, spread.total_seconds())))
            length = timedelta(minutes=prof.incident_min * rng.uniform(1.0, 1.5))
            members.append(
                Window("incident", prof.risk_point, start, min(start + length, self.end), sensor=s)
            )
        head = Window(
            "incident",
            prof.risk_point,
            min(m.start for m in members),
            max(m.end for m in members),
            risk_kind=kind,
            scope=scope,
            kind=sensor_kind,
        )
        head = replace(head, members=tuple(m.id for m in members))
        return [head, *(replace(m, group=head.id) for m in members)]

    def compound(self, count: int) -> list[Window]:
        """``count`` compound incidents (see the module docstring)."""
        records = {
            rp: [p for p in self.world.places if p.kind == where]
            for rp, where, _ in RECORD_INCIDENTS
        }
        out: list[Window] = []
        for _ in range(max(count, 0)):
            drawn = stack.draw(
                self.catalogue, self.profiles, self.world.sensors, records, self.busy, self.rng
            )
            if drawn is None:
                break
            pick, chosen = drawn
            window_s = pick.rule.window_s
            latest = self.end - timedelta(seconds=window_s)
            if latest < self.earliest:
                break
            t = self.earliest + timedelta(
                seconds=self.rng.uniform(0, (latest - self.earliest).total_seconds())
            )
            w0 = to_dt(window_start(int(t.timestamp()), window_s)).astimezone(self.start.tzinfo)
            if w0 < self.earliest:
                w0 += timedelta(seconds=window_s)
            lead, spread = min(300.0, window_s / 12), min(600.0, window_s / 6)
            members = []
            for src in chosen:
                start = _second(w0 + timedelta(seconds=lead + self.rng.uniform(0, spread)))
                if src.sensor is not None:
                    self.busy.add(src.sensor.sensor_id)
                    prof = self.profiles[src.sensor.kind]
                    length = timedelta(minutes=prof.incident_min * self.rng.uniform(1.0, 1.5))
                    w = Window("incident", src.risk_point, start, start + length, sensor=src.sensor)
                else:
                    self.busy.add(src.place.place_id)
                    length = timedelta(minutes=30)
                    w = Window("incident", src.risk_point, start, start + length, place=src.place)
                members.append(replace(w, end=min(w.end, self.end)))
            head = Window(
                "incident",
                chosen[0].risk_point,
                min(m.start for m in members),
                max(m.end for m in members),
                risk_kind="compound",
                scope=pick.place.place_id,
                at=pick.place,
            )
            head = replace(head, members=tuple(m.id for m in members))
            out += [head, *(replace(m, group=head.id) for m in members)]
        return out

    # -- faults -------------------------------------------------------------------------

    def faults(self, rate: float) -> list[Window]:
        rng, out = self.rng, []
        hours = (self.end - self.start).total_seconds() / 3600
        for sensor in self.world.sensors:
            if sensor.sensor_id in self.busy or rng.random() >= rate:
                continue
            fault = rng.choice(("stuck", "dropout", "spike"))
            minutes = {"stuck": 60.0, "dropout": 30.0, "spike": self.interval_s / 60}[fault]
            start = _second(self.start + timedelta(seconds=rng.uniform(0, hours * 3600 * 0.9)))
            out.append(
                Window("fault", fault, start, start + timedelta(minutes=minutes), sensor=sensor)
            )
        return out
