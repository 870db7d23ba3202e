"""Comprehensive rules: a district-wide risk index over modules, in bands.

(signal → scoped signal → window → **comprehensive rule** → systemic alert.) The
aggregator for the systemic rules of kind ``comprehensive``: in the district's
window every signal adds points by its severity (``severity_weights``) to one
index; the alert's level is the highest band (``bands``) the index reaches,
once the signals span at least ``min_modules`` modules. As evidence grows the
level can only rise: points are never negative, so the index never falls.
With ``against_history`` the signals behind the index must also be improbable
under the mean of the district's own past windows
(:func:`~streams.core.alerts.aggregators.base.against_history`).
"""

from __future__ import annotations

from collections import Counter

from streams.core.alerts.aggregators.base import (
    Context,
    EvidenceSet,
    Outcome,
    RuleKind,
    Weighted,
    against_history,
    ordered,
)
from streams.core.alerts.evidence import Evidence, Signals
from streams.core.alerts.rules import SystemicRule


class ComprehensiveAggregator(EvidenceSet):
    """A weighted index of every (module-filtered) signal in the district, in bands."""

    kind: RuleKind = "comprehensive"

    def __init__(self, rule: SystemicRule) -> None:
        if rule.kind != "comprehensive":
            raise ValueError(f"{rule.id}: a {rule.kind} rule has no risk index")
        self.rule = rule
        self.rule_id = rule.id
        self.name = rule.name
        self.emergency = rule.emergency
        self.window_s = rule.window_s
        self.history = rule.history if rule.against_history else 0

    def listens(self, scope_kind: str) -> bool:
        return scope_kind == "district"

    def accepts(self, ev: Evidence) -> bool:
        return not self.rule.modules or ev.module in self.rule.modules

    def sub(self, ev: Evidence) -> str:
        return ""

    def result(self, state: Signals, ctx: Context) -> Outcome | None:
        rule = self.rule
        weighted = [
            Weighted(ev, float(rule.severity_weights.get(ev.severity, 0.0)))
            for ev in ordered(state)
        ]
        modules = Counter(w.evidence.module for w in weighted)
        index = sum(w.weight for w in weighted)
        band = rule.band(index)
        if len(modules) < rule.min_modules or band is None:
            return None
        past = against_history(rule, len(weighted), ctx)
        if not past.unusual:
            return None
        level, threshold = band
        return Outcome(
            level,
            index,
            threshold,
            dict(sorted(modules.items())),
            tuple(weighted),
            baseline=past.mean,
            why=f"risk index {index:g} over {len(modules)} modules reaches the "
            f"{level} band ({threshold:g})" + past.why(rule),
        )
