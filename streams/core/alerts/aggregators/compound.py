"""Compound rules: risks that co-occur at one place within one window are worse together.

(signal → scoped signal → window → **compound rule** → compound alert.) The
aggregator for ``compound_rules`` of the catalogue: each member of the rule
names a module or a single risk point, with a weight. A place's window
(``sub`` = the place id) holds the signals any member names; the rule fires
when the distinct modules among them reach ``min_modules`` and the summed
weights of the distinct members matched reach ``min_score``. Each signal's
weight in the portrait is the largest weight of the members it matches.

A compound window lives in the scope of the place's town (or, for a place the
district model does not know, in ``place:<id>``), so that the town's regional
rule can cover it (:mod:`streams.core.alerts.inhibition`).
"""

from __future__ import annotations

from collections import Counter

from streams.core.alerts.aggregators.base import (
    Context,
    EvidenceSet,
    Outcome,
    RuleKind,
    Weighted,
    matches,
    ordered,
)
from streams.core.alerts.evidence import Evidence, Signals
from streams.core.alerts.rules import CompoundRule


class CompoundAggregator(EvidenceSet):
    """Co-occurrence of a rule's members at one place, in one tumbling window."""

    kind: RuleKind = "compound"

    def __init__(self, rule: CompoundRule) -> None:
        self.rule = rule
        self.rule_id = rule.id
        self.name = rule.name
        self.emergency = rule.emergency
        self.window_s = rule.window_s

    def listens(self, scope_kind: str) -> bool:
        return scope_kind in ("town", "place")

    def accepts(self, ev: Evidence) -> bool:
        return any(matches(m, ev.module, ev.risk_point) for m in self.rule.members)

    def sub(self, ev: Evidence) -> str:
        return ev.place_id

    def result(self, state: Signals, ctx: Context) -> Outcome | None:
        rule = self.rule
        hits: set[int] = set()
        matched: list[Weighted] = []
        for ev in ordered(state):
            mine = [i for i, m in enumerate(rule.members) if matches(m, ev.module, ev.risk_point)]
            if mine:
                hits.update(mine)
                matched.append(Weighted(ev, max(rule.members[i].weight for i in mine)))
        modules = Counter(w.evidence.module for w in matched)
        score = sum(rule.members[i].weight for i in hits)
        if len(modules) < rule.min_modules or score < rule.min_score:
            return None
        return Outcome(
            rule.severity,
            score,
            rule.min_score,
            dict(sorted(modules.items())),
            tuple(matched),
            why=f"{len(modules)} modules co-occur (at least {rule.min_modules}), weight {score:g}",
        )
