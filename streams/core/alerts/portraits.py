"""Portraits: the alert a fired rule publishes, with the evidence behind it.

(window → rule result → **compound / systemic alert with its portrait** → order.)
Pure: from a window, the rule's :class:`~streams.core.alerts.aggregators.base.Outcome`
and what inhibition decided, :class:`Portraits` writes the :class:`~schemas.Alert`
a person and a downstream system read: the summary (what, where, when, how
bad, why, the most severe signals with their indicators and source events),
the labels routing matches on, the signals, risk points and source keys
(sensors or subjects) behind it, and the portrait (score against threshold,
members, baseline, the contributing signals most severe first).

:func:`fingerprint` is what an alert *says*: its level, members, evidence,
what it covers beyond its own signals and what inhibits it. The engine
re-publishes a window's alert, version + 1, only when that changes, so the
last version is the same whatever order the evidence arrived in.
"""

from __future__ import annotations

import json
from collections import Counter

from schemas import Alert, AlertKind, Contribution, Portrait, ScopeKind
from streams.core.alerts.aggregators.base import Aggregator, Outcome, Weighted
from streams.core.alerts.single import alert_id_for
from streams.core.alerts.store import Window
from streams.core.alerts.windows import to_dt
from streams.core.shared.catalogue import Catalogue
from streams.core.shared.ids import stable_id
from streams.core.shared.regions import RegionIndex

MAX_CONTRIBUTIONS = 64
MAX_LINKS = 256
MAX_SUMMARY = 2000


def alert_scope(rule: Aggregator, window: Window) -> tuple[ScopeKind, str]:
    """What an alert of this window is about: the place (compound) or the window's scope."""
    if rule.kind == "compound":
        return ScopeKind.PLACE, window.sub
    kind, _, scope = window.scope.partition(":")
    return ScopeKind(kind), scope


def alert_id(rule_id: str, scope_kind: ScopeKind, scope: str, window: Window) -> str:
    """One id per (rule, scope, window): every version of the alert shares it."""
    return stable_id("alert", rule_id, scope_kind.value, scope, window.sub, window.start)


def singles(outcome: Outcome) -> list[str]:
    """The single-risk alerts behind an outcome (one per contributing signal), sorted."""
    return sorted(alert_id_for(w.evidence.signal_id) for w in outcome.contributions)


def fingerprint(outcome: Outcome, covers: list[str], inhibited_by: str | None) -> str:
    """What the alert says, beyond its version: a new version only when this changes."""
    own = set(singles(outcome))
    return json.dumps(
        [
            outcome.level,
            sorted(outcome.members),
            stable_id("set", *sorted(w.evidence.signal_id for w in outcome.contributions)),
            [c for c in covers if c not in own],
            inhibited_by,
        ]
    )


def most_severe_first(contributions: tuple[Weighted, ...]) -> list[Weighted]:
    """Severity, then weight (both descending), then the earliest, then by signal id."""
    return sorted(
        contributions,
        key=lambda w: (-w.evidence.rank, -w.weight, w.evidence.t, w.evidence.signal_id),
    )


def contribution(w: Weighted) -> Contribution:
    ev = w.evidence
    return Contribution(
        signal_id=ev.signal_id,
        risk_point=ev.risk_point,
        module=ev.module,
        place_id=ev.place_id,
        severity=ev.severity,
        score=float(ev.score),
        weight=float(w.weight),
        indicators={k: float(v) for k, v in list(ev.indicators.items())[:32]},
        source_event_ids=list(ev.source_event_ids)[:64],
        event_time=to_dt(ev.t),
    )


class Portraits:
    """Writes the alerts of fired rules, naming risk points and places as people know them."""

    def __init__(self, catalogue: Catalogue, regions: RegionIndex) -> None:
        self.regions = regions
        self.rp_names = {rp.id: rp.name for rp in catalogue.risk_points}

    def where(self, kind: ScopeKind, scope: str) -> str:
        if kind in (ScopeKind.PLACE, ScopeKind.GRID_CELL):
            chain = self.regions.ancestors(scope)
            return f"{kind.value} {' < '.join(chain)}" if len(chain) > 1 else f"place {scope}"
        return f"{kind.value} {scope}"

    def _line(self, w: Weighted) -> str:
        ev = w.evidence
        indicators = ", ".join(f"{k}={v:.4g}" for k, v in list(ev.indicators.items())[:3])
        return (
            f"{self.rp_names.get(ev.risk_point, ev.risk_point)} at {ev.place_id} "
            f"({ev.severity}, {indicators}; events {', '.join(ev.source_event_ids[:3])})"
        )

    def alert(
        self,
        rule: Aggregator,
        window: Window,
        outcome: Outcome,
        covers: list[str],
        inhibited_by: str | None,
        version: int,
    ) -> Alert:
        """The alert ``rule`` publishes for ``window``, version ``version``."""
        scope_kind, scope = alert_scope(rule, window)
        sigs = outcome.contributions
        ranked = most_severe_first(sigs)
        modules = Counter(w.evidence.module for w in sigs)
        dominant = sorted(modules.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        start, end = to_dt(window.start), to_dt(window.end)
        top = "; ".join(self._line(w) for w in ranked[:4])
        members = ", ".join(f"{k} x{v}" for k, v in outcome.members.items())
        summary = (
            f"[{outcome.level.upper()}] {rule.name} — {self.where(scope_kind, scope)}, "
            f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC: {len(sigs)} signals ({members}); "
            f"{outcome.why}. Most severe: {top}"
        )
        if inhibited_by:
            summary += f". Covered by {inhibited_by}: not paged separately"
        compound = rule.kind == "compound"
        labels = {
            "kind": "compound" if compound else "systemic",
            "rule": rule.rule_id,
            "level": outcome.level,
            "emergency": str(rule.emergency).lower(),
            "scope": scope[:256],
        }
        if compound:
            labels["module"] = dominant
            labels["place"] = scope
        return Alert(
            alert_id=alert_id(rule.rule_id, scope_kind, scope, window),
            version=version,
            kind=AlertKind.COMPOUND if compound else AlertKind.SYSTEMIC,
            rule_id=rule.rule_id,
            level=outcome.level,
            emergency=rule.emergency,
            auto_disposable=False,
            scope=scope,
            module=dominant,
            risk_points=sorted({w.evidence.risk_point for w in sigs})[:64],
            labels=labels,
            signal_ids=sorted(w.evidence.signal_id for w in sigs)[:MAX_LINKS],
            source_keys=sorted({w.evidence.source_key for w in sigs})[:MAX_LINKS],
            summary=summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1] + "…",
            event_time=to_dt(max(w.evidence.t for w in sigs)),
            scope_kind=scope_kind,
            window_start=start,
            window_end=end,
            portrait=Portrait(
                rule_kind=rule.kind,
                score=outcome.score,
                threshold=outcome.threshold,
                members=outcome.members,
                signal_count=len(sigs),
                baseline=outcome.baseline,
                contributions=[contribution(w) for w in ranked[:MAX_CONTRIBUTIONS]],
            ),
            covers=covers,
            inhibited_by=inhibited_by,
        )
