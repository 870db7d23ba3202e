"""Trend rules: a module's count in a window, against the module's own history.

(signal → scoped signal → window → **trend rule** → systemic alert.) The
aggregator for the systemic rules of kind ``trend``: the district's window is
split by module (``sub`` = the module). When a window changes, its count is
compared with the mean of the past ``history`` windows of the same module
(:class:`~streams.core.alerts.aggregators.base.Context.history`, which the
window store fills from open windows and from the counts it remembered when
it collected older ones). The rule fires when at least ``min_history`` past
windows exist, the count reaches ``min_count``, and a Poisson tail as extreme
as the count is at most ``p_value`` under that mean — only the past is used,
never the window's own future.
"""

from __future__ import annotations

from streams.core.alerts.aggregators.base import (
    Context,
    EvidenceSet,
    Outcome,
    RuleKind,
    Weighted,
    ordered,
)
from streams.core.alerts.evidence import Evidence, Signals
from streams.core.alerts.rules import SystemicRule
from streams.core.signals.detectors.rate import poisson_sf


class TrendAggregator(EvidenceSet):
    """One module's count per window, judged against its own past windows."""

    kind: RuleKind = "trend"

    def __init__(self, rule: SystemicRule) -> None:
        if rule.kind != "trend":
            raise ValueError(f"{rule.id}: a {rule.kind} rule has no trend")
        self.rule = rule
        self.rule_id = rule.id
        self.name = rule.name
        self.emergency = rule.emergency
        self.window_s = rule.window_s
        self.history = rule.history

    def listens(self, scope_kind: str) -> bool:
        return scope_kind == "district"

    def accepts(self, ev: Evidence) -> bool:
        return not self.rule.modules or ev.module in self.rule.modules

    def sub(self, ev: Evidence) -> str:
        return ev.module

    def result(self, state: Signals, ctx: Context) -> Outcome | None:
        rule = self.rule
        hist = ctx.history[-rule.history :]
        count = len(state)
        if len(hist) < rule.min_history or count < rule.min_count:
            return None
        lam = sum(hist) / len(hist)
        tail = poisson_sf(count, lam)
        if tail > rule.p_value:
            return None
        return Outcome(
            rule.severity,
            float(count),
            float(rule.min_count),
            {ctx.sub: count},
            tuple(Weighted(ev, 1.0) for ev in ordered(state)),
            baseline=lam,
            why=f"{count} {ctx.sub} signals in the window against a mean of {lam:.2f} "
            f"over the past {len(hist)} windows (tail probability {tail:.2g} <= "
            f"{rule.p_value:g})",
        )
