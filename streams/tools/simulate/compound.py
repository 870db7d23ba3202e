"""Where a compound incident can happen: one place whose hazards a compound rule stacks.

(**reading** / **department event** → signal → **compound alert**.) A compound
rule (``compound_rules`` of the catalogue) fires when signals of at least
``min_modules`` of its member modules (or named risk points) fall at one place
within one tumbling window. A *compound incident* is one cause behind such a
stack: a cloudburst floods an underpass whose road then ices, a boiler
over-pressure next to an overheating cable. To inject one with ground truth,
the simulator needs a place with a free *source* (a sensor, or a place whose
department records feed a risk point) in enough of the rule's modules, each
one its detector sees soon after the onset, so every member's signal lands in
the same window.

:func:`lag_s` says how soon a source's detector can see an incident (a
threshold with no hold time at once; a hold time after it; a collision of
records after its last record; anything learned or rate-based: not promptly,
so never chosen). :func:`candidates` lists, per rule and place, the fastest
source of each module, and :func:`choose` draws one (rule, place), preferring
places where every member is seen at once. Pure; deterministic for the rng.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from streams.core.alerts.aggregators.base import matches
from streams.core.alerts.rules import CompoundRule
from streams.core.shared.catalogue import Catalogue
from streams.tools.simulate.device import ALARM_EVERY_MIN
from streams.tools.simulate.profiles import RECORD_GAP_MIN, RECORD_INCIDENTS, Profile
from streams.tools.simulate.world import Place, Sensor

#: a source whose detector needs longer than this share of the rule's window is not used
MAX_LAG_SHARE = 0.25


@dataclass(frozen=True)
class Source:
    """A free sensor, or a place whose records feed ``risk_point``, at ``place``."""

    risk_point: str
    module: str
    place: Place
    lag_s: float
    sensor: Sensor | None = None


@dataclass(frozen=True)
class Candidate:
    """A rule and a place where its members can be injected: per module, its fastest
    sources (one is drawn per module)."""

    rule: CompoundRule
    place: Place
    options: tuple[tuple[Source, ...], ...]

    @property
    def instant(self) -> bool:
        return all(o[0].lag_s == 0 for o in self.options)


def score(rule: CompoundRule, chosen: Iterable[Source]) -> float:
    """The summed weights of the distinct members ``chosen`` matches (as the rule sums)."""
    hit = {
        i for i, m in enumerate(rule.members) for s in chosen if matches(m, s.module, s.risk_point)
    }
    return sum(rule.members[i].weight for i in hit)


def lag_s(catalogue: Catalogue, risk_point: str, profile: Profile | None) -> float | None:
    """Seconds from an incident's onset until its detector can signal it (``None``: not
    promptly). ``profile``: the sensor kind's, for a sensor; ``None`` for records."""
    rp = catalogue.risk_point(risk_point)
    if profile is not None:
        if rp.detector.kind != "threshold" or profile.mode != "set":
            return None
        hold = float(rp.trigger.for_s or 0)
        # held: the device reports on its alarm pace until the hold time has passed
        return hold + ALARM_EVERY_MIN * 60 if hold else 0.0
    records = {r: recs for r, _, recs in RECORD_INCIDENTS}
    if rp.detector.kind == "collision" and risk_point in records:
        return RECORD_GAP_MIN * 60.0 * (len(records[risk_point]) - 1)
    return None


def sources(
    catalogue: Catalogue,
    profiles: Mapping[str, Profile],
    sensors: Iterable[Sensor],
    record_places: Mapping[str, Sequence[Place]],
    busy: set[str],
) -> dict[str, list[Source]]:
    """Place id → its free prompt sources (sensors by id, record places by place id)."""
    out: dict[str, list[Source]] = {}
    for s in sensors:
        if s.sensor_id in busy:
            continue
        prof = profiles[s.kind]
        lag = lag_s(catalogue, prof.risk_point, prof)
        if lag is not None:
            module = catalogue.risk_point(prof.risk_point).module
            out.setdefault(s.place.place_id, []).append(
                Source(prof.risk_point, module, s.place, lag, s)
            )
    for rp_id, places in sorted(record_places.items()):
        lag = lag_s(catalogue, rp_id, None)
        if lag is None:
            continue
        module = catalogue.risk_point(rp_id).module
        for p in places:
            if p.place_id not in busy:
                out.setdefault(p.place_id, []).append(Source(rp_id, module, p, lag))
    return out


def candidates(
    rules: Sequence[CompoundRule], by_place: Mapping[str, list[Source]]
) -> list[Candidate]:
    """Every (rule, place) with prompt sources in at least ``min_modules`` of the rule's
    modules, keeping per module the sources with the least lag, whose first picks reach
    the rule's ``min_score``."""
    out = []
    for rule in sorted(rules, key=lambda r: r.id):
        limit = rule.window_s * MAX_LAG_SHARE
        for place_id in sorted(by_place):
            fits: dict[str, list[Source]] = {}
            for src in by_place[place_id]:
                if src.lag_s <= limit and any(
                    matches(m, src.module, src.risk_point) for m in rule.members
                ):
                    fits.setdefault(src.module, []).append(src)
            if len(fits) < rule.min_modules:
                continue
            options = []
            for module in sorted(fits):
                least = min(s.lag_s for s in fits[module])
                options.append(tuple(s for s in fits[module] if s.lag_s == least))
            if score(rule, (o[0] for o in options)) < rule.min_score:
                continue
            out.append(Candidate(rule, options[0][0].place, tuple(options)))
    return out


def choose(found: Sequence[Candidate], rng: random.Random) -> tuple[Candidate, list[Source]] | None:
    """One candidate and its sources: among candidates seen at once if any (else all), a
    rule drawn evenly, then one of its places, then one source per module (the first
    ones if the draw falls short of the rule's ``min_score``)."""
    pool = [c for c in found if c.instant] or list(found)
    if not pool:
        return None
    rule_id = rng.choice(sorted({c.rule.id for c in pool}))
    pick = rng.choice([c for c in pool if c.rule.id == rule_id])
    chosen = [rng.choice(o) for o in pick.options]
    if score(pick.rule, chosen) < pick.rule.min_score:
        chosen = [o[0] for o in pick.options]
    return pick, chosen


def draw(
    catalogue: Catalogue,
    profiles: Mapping[str, Profile],
    sensors: Iterable[Sensor],
    record_places: Mapping[str, Sequence[Place]],
    busy: set[str],
    rng: random.Random,
) -> tuple[Candidate, list[Source]] | None:
    """One compound incident's place, rule and sources among the free ones (``None``: no
    place fits any rule): :func:`sources`, :func:`candidates`, :func:`choose`."""
    by_place = sources(catalogue, profiles, sensors, record_places, busy)
    return choose(candidates(catalogue.compound_rules, by_place), rng)


__all__ = [
    "MAX_LAG_SHARE",
    "Candidate",
    "Source",
    "candidates",
    "choose",
    "draw",
    "lag_s",
    "score",
    "sources",
]
