"""The facts a daily report is built from: one per alert, one per order, over a period.

(alert → order → breach / status → **report**.) Pure: topics' events in,
consolidated facts out, no Kafka. An alert is re-published as its evidence
grows (``version`` + 1), and an order's life is spread over the dispatch,
status and breach topics; here each becomes one object that the figures
(:mod:`streams.tools.report.figures`) and the ground-truth scoring
(:mod:`streams.tools.report.groundtruth`) read.

The period is one of event time, ``[since, until)``: an alert belongs to it
when its first version was raised in it, an order when it was created in it.
What became of an order is everything the topics say about it, whenever it
happened (an order created at 23:50 may be resolved the next morning).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas import Alert, AlertKind, DispatchOrder, OrderState, OrderStatus, SlaBreach
from streams.core.orders.lifecycle import STAGE_MET_AT, TERMINAL, meets

Json = dict[str, Any]
S = OrderState
#: lifecycle order, to say which of two states reached at the same instant came last
_LIFECYCLE = [S.AUTO_DISPOSING, S.OPEN, S.SIGNED, S.ASSIGNED, S.ARRIVED, S.RESOLVED, S.CLOSED]
_RANK = {s: i for i, s in enumerate([*_LIFECYCLE, S.AUTO_RESOLVED])}


@dataclass(frozen=True)
class Period:
    """``[since, until)`` in event time; an open end takes everything on that side."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for t in (self.since, self.until):
            if t is not None and t.tzinfo is None:
                raise ValueError("the period's ends need a UTC offset")
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValueError("the period ends before it starts")

    def contains(self, t: datetime) -> bool:
        return (self.since is None or t >= self.since) and (self.until is None or t < self.until)

    @property
    def days(self) -> float | None:
        """Its length in days; ``None`` when an end is open."""
        if self.since is None or self.until is None:
            return None
        return (self.until - self.since).total_seconds() / 86400

    def to_json(self) -> Json:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "days": self.days,
        }


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to divide (never a made-up 0 or 1)."""
    return part / whole if whole else None


def durations(seconds: Sequence[float]) -> Json:
    """Count, mean, median and 90th percentile (nearest rank) of durations in seconds.

    >>> durations([60.0, 120.0, 600.0])
    {'n': 3, 'mean_s': 260.0, 'p50_s': 120.0, 'p90_s': 600.0}
    >>> durations([])
    {'n': 0, 'mean_s': None, 'p50_s': None, 'p90_s': None}
    """
    xs = sorted(seconds)
    if not xs:
        return {"n": 0, "mean_s": None, "p50_s": None, "p90_s": None}

    def rank(q: float) -> float:
        return xs[max(0, math.ceil(q * len(xs)) - 1)]

    return {"n": len(xs), "mean_s": sum(xs) / len(xs), "p50_s": rank(0.5), "p90_s": rank(0.9)}


@dataclass(frozen=True)
class AlertFacts:
    """One alert: its first version (when it was raised) and its last (what it says now)."""

    first: Alert
    last: Alert
    #: some version was not covered by a systemic alert: the dispatcher pages it
    paged: bool

    @property
    def alert_id(self) -> str:
        return self.last.alert_id

    @property
    def raised_at(self) -> datetime:
        return self.first.event_time

    @property
    def systemic_kind(self) -> str | None:
        """trend, regional, industry or comprehensive, for a systemic alert."""
        if self.last.kind is not AlertKind.SYSTEMIC:
            return None
        return self.last.portrait.rule_kind if self.last.portrait else "systemic"

    @property
    def scope_kind(self) -> str:
        return self.last.scope_kind.value if self.last.scope_kind else "place"


def alert_facts(alerts: Iterable[Alert], period: Period) -> list[AlertFacts]:
    """One :class:`AlertFacts` per distinct alert id raised in ``period``, by time raised."""
    versions: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        versions[a.alert_id].append(a)
    out = []
    for vs in versions.values():
        vs.sort(key=lambda a: (a.version, a.event_time))
        if period.contains(vs[0].event_time):
            paged = any(v.inhibited_by is None for v in vs)
            out.append(AlertFacts(vs[0], vs[-1], paged))
    return sorted(out, key=lambda f: (f.raised_at, f.alert_id))


@dataclass(frozen=True)
class OrderFacts:
    """One order: as dispatched, the states it reached (first time, cause), its breaches."""

    order: DispatchOrder
    reached: dict[OrderState, tuple[datetime, str]]
    breached: frozenset[str]
    #: its alert's module, when the alert is known
    module: str | None = None

    @property
    def created(self) -> datetime:
        return self.order.event_time

    @property
    def department(self) -> str:
        """The order's department field when it has one, else its alert's module."""
        return getattr(self.order, "department", None) or self.module or "unknown"

    @property
    def role(self) -> str:
        return getattr(self.order, "receiver_role", None) or self.order.assignee_role

    @property
    def final_state(self) -> OrderState:
        """The state reached last (``open`` or ``auto_disposing`` if no status was seen)."""
        if not self.reached:
            return S.AUTO_DISPOSING if self.order.auto_disposal else S.OPEN
        return max(self.reached, key=lambda s: (self.reached[s][0], _RANK[s]))

    def at(self, state: OrderState) -> datetime | None:
        hit = self.reached.get(state)
        return hit[0] if hit else None

    def met_at(self, stage: str) -> datetime | None:
        """When the order first reached a state that meets ``stage``."""
        times = [t for s, (t, _) in self.reached.items() if _meets(s, stage)]
        return min(times, default=None)

    def stage_outcome(self, stage: str) -> str:
        """``missed`` (on the breach topic, or met after its deadline), ``met`` (by its
        deadline), or ``open`` (neither yet)."""
        met = self.met_at(stage)
        if stage in self.breached or (met is not None and met > self.order.deadlines[stage]):
            return "missed"
        return "met" if met is not None else "open"

    @property
    def signed_at(self) -> datetime | None:
        return self.at(S.SIGNED)

    @property
    def resolved_at(self) -> datetime | None:
        """Resolved by a person or by the machine, whichever came first."""
        times = [self.at(s) for s in (S.RESOLVED, S.CLOSED, S.AUTO_RESOLVED)]
        return min((t for t in times if t is not None), default=None)

    @property
    def escalations(self) -> set[str]:
        """``recheck`` (the machine's re-check failed), ``help_requested`` (the party asked
        for a person), ``sla_breach`` (a stage missed its deadline)."""
        out = set()
        if S.OPEN in self.reached and self.reached[S.OPEN][1] in ("recheck", "help_requested"):
            out.add(self.reached[S.OPEN][1])
        if self.breached:
            out.add("sla_breach")
        return out


def _meets(state: OrderState, stage: str) -> bool:
    if stage not in STAGE_MET_AT:  # a stage this version does not know: met when finished
        return state in TERMINAL
    return meets(state, stage)


def order_facts(
    orders: Iterable[DispatchOrder],
    statuses: Iterable[OrderStatus],
    breaches: Iterable[SlaBreach],
    modules: dict[str, str],
    period: Period,
) -> list[OrderFacts]:
    """One :class:`OrderFacts` per distinct order created in ``period``, by creation time.

    ``modules``: alert id → module, for the department of orders that carry none.
    """
    first: dict[str, DispatchOrder] = {}
    for o in orders:
        if o.order_id not in first or o.event_time < first[o.order_id].event_time:
            first[o.order_id] = o
    reached: dict[str, dict[OrderState, tuple[datetime, str]]] = defaultdict(dict)
    for st in statuses:
        seen = reached[st.order_id].get(st.state)
        if seen is None or st.event_time < seen[0]:
            reached[st.order_id][st.state] = (st.event_time, st.cause)
    missed: dict[str, set[str]] = defaultdict(set)
    for b in breaches:
        missed[b.order_id].add(b.stage)
    out = [
        OrderFacts(
            o, dict(reached.get(oid, {})), frozenset(missed.get(oid, ())), modules.get(o.alert_id)
        )
        for oid, o in first.items()
        if period.contains(o.event_time)
    ]
    return sorted(out, key=lambda f: (f.created, f.order.order_id))


__all__ = ["AlertFacts", "OrderFacts", "Period", "alert_facts", "durations", "order_facts", "ratio"]
