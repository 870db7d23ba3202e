"""A district's day of hazards: which incidents happen, where and when, with their truth.

(**reading** / **department event** → signal → alert.) Every risk point of the
catalogue can happen wherever it is watched: at each sensor feeding it, or at
each place whose kind files its department records. How often is set by the
risk point's severity, after Frank Bird's accident ratio (1969: for every
serious injury, 10 minor injuries, 30 property-damage accidents and 600 near
misses): a unit (a sensor, a place) has a low-severity hazard 600 times as
often as a critical one (:data:`BIRD`). The day's count is ``per_day``, shared
out over the risk points by units x weight, each drawn from a Poisson law.

Besides these single incidents, the day holds *group* incidents, one cause
over many places, each sized to be a pattern the systemic rules can tell from
chance (:func:`pattern_size`): ``regional`` (a sensor in many communities of
one town), ``industry`` (many sites of one industry) and ``trend`` (one
module surging across the district), each of one sensor kind drawn like single
hazards (units x Bird weight: most patterns are of minor hazards);
``comprehensive`` (a storm: flood, construction and road risks at once); and
``compound`` (one place's hazards in several modules of a compound rule, see
:mod:`streams.tools.simulate.compound`). Incidents start between the day's
start and ``latest_start_h`` hours before its end, so they are judged in the day.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from streams.core.shared.catalogue import Catalogue, RiskPoint
from streams.tools.simulate import compound as stack
from streams.tools.simulate.chance import pattern_size
from streams.tools.simulate.device import STORM, TRANSIENT
from streams.tools.simulate.profiles import RECORD_INCIDENTS, Profile
from streams.tools.simulate.world import Place, Sensor, World

#: incidents per unit and day, relative, by severity (Bird's 1 : 10 : 30 : 600)
BIRD = {"critical": 1.0, "high": 10.0, "medium": 30.0, "low": 600.0}


@dataclass
class Incident:
    """One injected incident: a risk point at a sensor or a place, or a group of them."""

    id: str
    risk_point: str
    module: str
    start: datetime
    #: the natural end; ``None``: it lasts until someone fixes it (or the day ends)
    end: datetime | None
    sensor: Sensor | None = None
    place: Place | None = None
    risk_kind: str = "single"  # or regional, industry, trend, comprehensive, compound
    group: str | None = None
    scope: str | None = None  # a group: its town, industry or district; compound: its place
    members: list[str] = field(default_factory=list)
    fixed_at: datetime | None = None

    def ended(self, day_end: datetime) -> datetime:
        return min(t for t in (self.end, self.fixed_at, day_end) if t is not None)


@dataclass
class Mix:
    """Draws the day's incidents for ``world`` over [start, end)."""

    world: World
    catalogue: Catalogue
    profiles: dict[str, Profile]
    rng: random.Random
    start: datetime
    end: datetime
    per_day: float = 800.0
    latest_start_h: float = 2.0
    #: no group incident before this many hours: the systemic rules need past windows
    groups_from_h: float = 7.0

    def __post_init__(self) -> None:
        self.busy: set[str] = set()
        self.days = (self.end - self.start).total_seconds() / 86400
        self.latest = self.end - timedelta(hours=self.latest_start_h)
        self.sensors_of: dict[str, list[Sensor]] = {}
        for sensor in self.world.sensors:
            for rp_id in sensor.risk_points:
                self.sensors_of.setdefault(rp_id, []).append(sensor)
        collisions = {rp: where for rp, where, _ in RECORD_INCIDENTS}
        self.places_of: dict[str, list[Place]] = {}
        for rp in self.catalogue.risk_points:
            if rp.source.input != "record":
                continue
            if rp.id in collisions:
                places = [p for p in self.world.places if p.kind == collisions[rp.id]]
            else:
                types = set(rp.source.event_types or ())
                places = [p for p in self.world.places if types & set(self.world.records_of(p))]
            self.places_of[rp.id] = places

    # -- single incidents ---------------------------------------------------------------

    def units(self, rp: RiskPoint) -> int:
        if rp.source.input == "record":
            return len(self.places_of.get(rp.id, ()))
        return len(self.sensors_of.get(rp.id, ()))

    def expected(self) -> dict[str, float]:
        """Risk point → expected single incidents over the span."""
        weights = {rp.id: self.units(rp) * BIRD[rp.severity] for rp in self.catalogue.risk_points}
        total = sum(weights.values()) or 1.0
        return {k: self.per_day * self.days * w / total for k, w in weights.items()}

    def _when(self) -> datetime:
        span = max((self.latest - self.start).total_seconds(), 0)
        return (self.start + timedelta(seconds=self.rng.uniform(0, span))).replace(microsecond=0)

    def singles(self) -> list[Incident]:
        out: list[Incident] = []
        for rp_id, lam in sorted(self.expected().items()):
            rp = self.catalogue.risk_point(rp_id)
            n = _poisson(self.rng, lam)
            if rp.source.input == "record":
                pool = [p for p in self.places_of.get(rp_id, []) if p.place_id not in self.busy]
                for place in self.rng.sample(pool, min(n, len(pool))):
                    self.busy.add(place.place_id)
                    t = self._when()
                    end = t + timedelta(minutes=30) if rp.detector.kind == "collision" else None
                    iid = f"incident-{rp_id}-{place.place_id}-{t:%Y%m%dT%H%M}"
                    out.append(Incident(iid, rp_id, rp.module, t, end, place=place))
                continue
            free = [s for s in self.sensors_of.get(rp_id, []) if s.sensor_id not in self.busy]
            for sensor in self.rng.sample(free, min(n, len(free))):
                out.append(self._sensor_incident(rp_id, sensor, self._when()))
        return out

    def _sensor_incident(self, rp_id: str, sensor: Sensor, t: datetime) -> Incident:
        self.busy.add(sensor.sensor_id)
        prof = self.profiles[sensor.kind]
        end = None
        if sensor.kind in TRANSIENT:
            end = t + timedelta(minutes=prof.incident_min * self.rng.uniform(1.0, 1.5))
        iid = f"incident-{rp_id}-{sensor.sensor_id}-{t:%Y%m%dT%H%M}"
        return Incident(iid, rp_id, self._module(rp_id), t, end, sensor=sensor)

    def _module(self, rp_id: str) -> str:
        return self.catalogue.risk_point(rp_id).module

    def _severity(self, kind: str) -> str:
        return self.catalogue.risk_point(self.profiles[kind].risk_point).severity

    # -- group incidents ----------------------------------------------------------------

    def _window(self, window_s: int, from_h: float | None = None) -> datetime:
        """The start of a rule window at least ``from_h`` (default ``groups_from_h``)
        hours into the day."""
        first = self.start + timedelta(hours=self.groups_from_h if from_h is None else from_h)
        span = (self.latest - first).total_seconds() - window_s
        t = first + timedelta(seconds=self.rng.uniform(0, max(span, 0)))
        epoch = int(t.timestamp())
        w0 = datetime.fromtimestamp(epoch - epoch % window_s, self.start.tzinfo)
        return w0 if w0 >= first else w0 + timedelta(seconds=window_s)

    def _members(
        self, head: Incident, chosen: Sequence[Sensor], window_s: int, w0: datetime
    ) -> list[Incident]:
        """The group's members: each sensor's incident, onsets spread over 10 minutes
        from 5 minutes into the window."""
        members = []
        for s in chosen:
            t = (w0 + timedelta(minutes=5, seconds=self.rng.uniform(0, 600))).replace(microsecond=0)
            rp_id = self.profiles[s.kind].risk_point
            m = self._sensor_incident(rp_id, s, t)
            m.group = head.id
            members.append(m)
        head.members = [m.id for m in members]
        head.start = min(m.start for m in members)
        return members

    def groups(self, kind: str, count: int, chance: dict[str, float]) -> list[Incident]:
        """``count`` group incidents of ``kind``; ``chance``: scope → singles an hour."""
        rules = [r for r in self.catalogue.systemic_rules if r.kind == kind]
        if not rules or count <= 0:
            return []
        rule = min(rules, key=lambda r: r.id)
        out: list[Incident] = []
        for _ in range(count):
            pools = self._pools(kind, rule.modules)
            fits = []
            for (scope, skind), members in sorted(pools.items()):
                need = pattern_size(rule, chance.get(scope, 0.0), kind)
                if len(members) >= need:
                    fits.append((scope, skind, need))
            if not fits:
                break
            weights = [BIRD[self._severity(k)] * len(pools[(sc, k)]) for sc, k, _ in fits]
            scope, skind, need = self.rng.choices(fits, weights)[0]
            pool = pools[(scope, skind)]
            picks = self.rng.sample(sorted(pool), min(len(pool), need + 1))
            chosen = [self.rng.choice(pool[k]) for k in picks]
            w0 = self._window(rule.window_s)
            rp_id = self.profiles[skind].risk_point
            head = Incident(
                f"incident-{kind}-{scope}-{w0:%Y%m%dT%H%M}",
                rp_id,
                self._module(rp_id),
                w0,
                None,
                risk_kind=kind,
                scope=scope.split("|")[0],
            )
            group = self._members(head, chosen, rule.window_s, w0)
            head.end = max((m.end for m in group if m.end), default=None)
            out += [head, *group]
        return out

    def _pools(
        self, kind: str, modules: Sequence[str]
    ) -> dict[tuple[str, str], dict[str, list[Sensor]]]:
        """(scope, sensor kind) → member (community, site or sensor) → free sensors."""
        pools: dict[tuple[str, str], dict[str, list[Sensor]]] = {}
        district = self.world.model.district.id
        for s in self.world.sensors:
            p = s.place
            if s.sensor_id in self.busy or not self._instant(s.kind):
                continue
            module = self.catalogue.risk_point(self.profiles[s.kind].risk_point).module
            if modules and module not in modules:
                continue
            if kind == "regional" and p.is_cell:
                key, member = (p.town, s.kind), p.community
            elif kind == "industry" and not p.is_cell:
                key, member = (p.industry, s.kind), p.place_id
            elif kind == "trend":
                key, member = (f"{district}|{module}", s.kind), s.sensor_id
            else:
                continue
            pools.setdefault(key, {}).setdefault(member, []).append(s)
        return pools

    def _instant(self, kind: str) -> bool:
        """A kind whose incident its detector sees on the first reading (a threshold,
        no hold time), so a group's members all fall in their window."""
        rp = self.catalogue.risk_point(self.profiles[kind].risk_point)
        return (
            rp.detector.kind == "threshold"
            and not rp.trigger.for_s
            and self.profiles[kind].mode == "set"
        )

    def storm(self, chance_per_hour: float) -> list[Incident]:
        """A comprehensive incident: one storm over the district, members among the kinds a
        storm moves (:data:`STORM`) in at least the comprehensive rule's ``min_modules``
        modules, sized like the other patterns."""
        rules = [r for r in self.catalogue.systemic_rules if r.kind == "comprehensive"]
        if not rules:
            return []
        rule = min(rules, key=lambda r: r.id)
        by_module: dict[str, list[Sensor]] = {}
        for s in self.world.sensors:
            if s.sensor_id in self.busy or s.kind not in STORM or not self._instant(s.kind):
                continue
            by_module.setdefault(
                self.catalogue.risk_point(self.profiles[s.kind].risk_point).module, []
            ).append(s)
        modules = sorted(by_module, key=lambda m: -len(by_module[m]))[: max(rule.min_modules, 3)]
        if len(modules) < rule.min_modules:
            return []
        need = pattern_size(rule, chance_per_hour, "comprehensive")
        chosen: list[Sensor] = []
        for i in range(need + 1):
            pool = [s for s in by_module[modules[i % len(modules)]] if s not in chosen]
            chosen.append(self.rng.choice(pool))
        w0 = self._window(rule.window_s)
        district = self.world.model.district.id
        rp_id = self.profiles[chosen[0].kind].risk_point
        head = Incident(
            f"incident-comprehensive-{district}-{w0:%Y%m%dT%H%M}",
            rp_id,
            self._module(rp_id),
            w0,
            None,
            risk_kind="comprehensive",
            scope=district,
        )
        members = self._members(head, chosen, rule.window_s, w0)
        return [head, *members]

    def compound(self, count: int) -> list[Incident]:
        """``count`` compound incidents: each at one place (a site or a grid cell), one
        member incident in each module of a compound rule the place has a free prompt
        source for (at least the rule's ``min_modules``), onsets within the first half
        of one of the rule's windows (see :mod:`streams.tools.simulate.compound`)."""
        out: list[Incident] = []
        for _ in range(max(count, 0)):
            drawn = stack.draw(
                self.catalogue,
                self.profiles,
                self.world.sensors,
                self.places_of,
                self.busy,
                self.rng,
            )
            if drawn is None:
                break
            pick, chosen = drawn
            window_s = pick.rule.window_s
            w0 = self._window(window_s, from_h=0.0)  # a compound rule needs no past windows
            lead = min(300.0, window_s / 12)
            spread = min(600.0, window_s / 6)
            first = chosen[0]
            head = Incident(
                f"incident-compound-{pick.place.place_id}-{w0:%Y%m%dT%H%M}",
                first.risk_point,
                first.module,
                w0,
                None,
                risk_kind="compound",
                scope=pick.place.place_id,
            )
            members = []
            for src in chosen:
                t = w0 + timedelta(seconds=lead + self.rng.uniform(0, spread))
                t = t.replace(microsecond=0)
                if src.sensor is not None:
                    m = self._sensor_incident(src.risk_point, src.sensor, t)
                else:
                    self.busy.add(src.place.place_id)
                    iid = f"incident-{src.risk_point}-{src.place.place_id}-{t:%Y%m%dT%H%M}"
                    m = Incident(
                        iid,
                        src.risk_point,
                        src.module,
                        t,
                        t + timedelta(minutes=30),
                        place=src.place,
                    )
                m.group = head.id
                members.append(m)
            head.members = [m.id for m in members]
            head.start = min(m.start for m in members)
            if all(m.end for m in members):
                head.end = max(m.end for m in members if m.end)
            out += [head, *members]
        return out


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method for small means, a rounded normal for large)."""
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def chance_per_hour(incidents: Sequence[Incident], hours: float) -> dict[str, float]:
    """Single incidents an hour by town, industry, district|module and the district."""
    c: Counter[str] = Counter()
    for i in incidents:
        if i.risk_kind != "single":
            continue
        place = i.place or (i.sensor.place if i.sensor else None)
        if place is None:
            continue
        c[place.town] += 1
        c[place.industry] += 1
        c[f"{place.district}|{i.module}"] += 1
        c[place.district] += 1
    return {k: v / hours for k, v in c.items()}


__all__ = ["BIRD", "Incident", "Mix", "chance_per_hour", "pattern_size"]
