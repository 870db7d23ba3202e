"""Regional and industry rules: one risk seen in many places of one scope at once.

(signal → scoped signal → window → **regional / industry rule** → systemic alert.)
The aggregator for the systemic rules of kind ``regional`` (a town's window:
distinct communities with signals) and ``industry`` (an industry's window:
distinct sites with signals). Both count distinct places, so one busy place
never looks like a spread; the rule fires when they reach ``min_places``.
Every signal in the window is evidence (weight 1), including those of places
the district model gives no community or site. With ``against_history`` the
count of distinct places must also be improbable under the mean of the scope's
own past windows (:func:`~streams.core.alerts.aggregators.base.against_history`).

A regional alert covers the compound alerts of its town in overlapping
windows, which are then not paged separately
(:mod:`streams.core.alerts.inhibition`).
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


class PlacesAggregator(EvidenceSet):
    """Distinct communities of a town (``regional``) or sites of an industry (``industry``)."""

    def __init__(self, rule: SystemicRule) -> None:
        if rule.kind not in ("regional", "industry"):
            raise ValueError(f"{rule.id}: a {rule.kind} rule does not count places")
        self.rule = rule
        self.rule_id = rule.id
        self.kind: RuleKind = rule.kind
        self.name = rule.name
        self.emergency = rule.emergency
        self.window_s = rule.window_s
        self._scope = "town" if rule.kind == "regional" else "industry"
        self._what = "communities" if rule.kind == "regional" else "sites"
        self.history = rule.history if rule.against_history else 0

    def listens(self, scope_kind: str) -> bool:
        return scope_kind == self._scope

    def accepts(self, ev: Evidence) -> bool:
        return not self.rule.modules or ev.module in self.rule.modules

    def sub(self, ev: Evidence) -> str:
        return ""

    def place(self, ev: Evidence) -> str | None:
        """The place a signal counts for: its community (regional) or site (industry)."""
        return ev.community if self.kind == "regional" else ev.site

    def measure(self, state: Signals) -> int:
        """Distinct places with signals: what the rule counts, and its history remembers."""
        return len({p for p in map(self.place, state.values()) if p})

    def result(self, state: Signals, ctx: Context) -> Outcome | None:
        rule = self.rule
        sigs = ordered(state)
        members = Counter(p for p in map(self.place, sigs) if p)
        if len(members) < rule.min_places:
            return None
        past = against_history(rule, len(members), ctx)
        if not past.unusual:
            return None
        return Outcome(
            rule.severity,
            float(len(members)),
            float(rule.min_places),
            dict(sorted(members.items())),
            tuple(Weighted(ev, 1.0) for ev in sigs),
            baseline=past.mean,
            why=f"{len(members)} {self._what} with signals (threshold {rule.min_places})"
            + past.why(rule),
        )
