"""The daily report for a district's leaders: every figure, from the topics' events.

(alert → order → breach / status → notification → **report**.) Pure: the
tool (``streams.tools.report.command``) reads the topics and hands the decoded events over
(:class:`Topics`); :func:`compute` returns one JSON-ready dict, the same for the
same events whatever their order. The facts it counts are in
:mod:`streams.tools.report.facts`, recall and false alerts in
:mod:`streams.tools.report.groundtruth`. Every figure's definition is written into
the report itself (:data:`DEFINITIONS`), so a number never needs this file to
be explained.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from schemas import (
    Alert,
    DispatchOrder,
    NotificationReceipt,
    NotificationRequest,
    OrderState,
    OrderStatus,
    ReceiptStatus,
    SlaBreach,
)
from streams.tools.report import groundtruth
from streams.tools.report.facts import (
    AlertFacts,
    OrderFacts,
    Period,
    alert_facts,
    durations,
    order_facts,
    ratio,
)

Json = dict[str, Any]
LEVELS = ("low", "medium", "high", "critical")
KINDS = ("single", "compound", "systemic")
SYSTEMIC_KINDS = ("trend", "regional", "industry", "comprehensive")
OUTCOMES = ("met", "missed", "open")
#: (lowest on-time share, verdict), best first; below the last: "poor"
GRADES = ((0.95, "good"), (0.80, "needs attention"))

ALL_TIME = Period()

DEFINITIONS = {
    "period": "[since, until) in event time. An alert belongs to it when its first version "
    "was raised in it; an order when it was created in it. What became of an order is "
    "everything the topics say about it, also after the period.",
    "alerts": "distinct alert ids raised in the period; level, module and scope are the "
    "latest version's",
    "orders": "distinct order ids created in the period",
    "sla": "per (order, stage): missed = on the breach topic or met after its deadline; met "
    "= reached by its deadline; open = neither yet. compliance = met / (met + missed)",
    "sla_breaches_observed": "distinct (order, stage) pairs on the breach topic, of the "
    "period's orders",
    "assessment": "a group's handling by its compliance: good >= 0.95, needs attention "
    ">= 0.80, else poor; 'no deadline decided' while nothing is met or missed",
    "department": "the order's department field, else its alert's module",
    "auto_disposed_ratio": "orders that ended auto_resolved / all orders created in the period",
    "auto_disposed_per_day": "orders that ended auto_resolved / the period's length in days",
    "mtta": "order created -> signed by a person; orders no person signed (the machine "
    "closed them, or still open) are not in it",
    "mttr": "order created -> resolved by a person or auto-resolved by the machine",
    "escalations": "orders handed to a person by a failed re-check or a help request, or "
    "with a missed stage (its escalation contact is told)",
    "duplicate_notifications": "idempotency keys accepted more than once by the SMS and voice "
    "stubs (their message lists); null when their URLs were not given",
    **groundtruth.DEFINITIONS,
}


@dataclass(frozen=True)
class Topics:
    """The decoded events of the topics a report reads (any order, duplicates allowed)."""

    alerts: Sequence[Alert] = ()
    orders: Sequence[DispatchOrder] = ()
    statuses: Sequence[OrderStatus] = ()
    breaches: Sequence[SlaBreach] = ()
    notifications: Sequence[NotificationRequest] = ()
    receipts: Sequence[NotificationReceipt] = ()


def compute(
    topics: Topics,
    period: Period = ALL_TIME,
    *,
    towns: Mapping[str, str] | None = None,
    ancestors: Mapping[str, Sequence[str]] | None = None,
    tz: tzinfo = UTC,
    stub_messages: Sequence[Mapping[str, Any]] | None = None,
    truth: groundtruth.Truth | None = None,
    match_delay_s: float = groundtruth.DEFAULT_DELAY_S,
) -> Json:
    """The whole report. ``towns``: place, grid cell or community → its town (for the
    by-town table); ``ancestors``: place → the regions containing it (to match
    area-wide incidents); ``tz``: the hours of the per-hour series; ``stub_messages``: the
    stubs' accepted messages (``idempotency_key`` each); ``truth``: the simulator's."""
    alerts = alert_facts(topics.alerts, period)
    modules = {a.alert_id: a.module for a in topics.alerts}
    orders = order_facts(topics.orders, topics.statuses, topics.breaches, modules, period)
    known_orders = {o.order_id for o in topics.orders}
    figures: Json = {
        "period": period.to_json(),
        "definitions": DEFINITIONS,
        "alerts": alert_figures(
            alerts, period, towns or {}, tz, {o.alert_id for o in topics.orders}
        ),
        "orders": order_figures(orders),
        "sla": sla_figures(orders, topics.breaches, known_orders),
        "auto_disposal": auto_disposal(orders, period),
        "times": times(orders),
        "escalations": escalations(orders),
        "notifications": notifications(orders, topics, stub_messages),
        "ground_truth": (
            groundtruth.assess(
                alerts,
                truth,
                period,
                delay_s=match_delay_s,
                ancestors=ancestors,
                rechecks=groundtruth.recheck_outcomes(orders),
            )
            if truth
            else None
        ),
    }
    figures["summary"] = summary(figures)
    return figures


def _levels(alerts: Sequence[AlertFacts]) -> Json:
    c: Counter[str] = Counter(a.last.level for a in alerts)
    return {"total": len(alerts), **{lv: c[lv] for lv in LEVELS}}


def _by(alerts: Sequence[AlertFacts], key: Callable[[AlertFacts], str]) -> Json:
    groups: dict[str, list[AlertFacts]] = {}
    for a in alerts:
        groups.setdefault(key(a), []).append(a)
    return {k: _levels(v) for k, v in sorted(groups.items())}


def alert_figures(
    alerts: Sequence[AlertFacts],
    period: Period,
    towns: Mapping[str, str],
    tz: tzinfo,
    with_order: set[str],
) -> Json:
    def town(a: AlertFacts) -> str:
        if a.scope_kind == "town":
            return a.last.scope
        if a.scope_kind in ("industry", "district"):
            return "(district-wide)"
        return towns.get(a.last.scope) or a.last.labels.get("town") or "(unknown)"

    return {
        "total": len(alerts),
        "by_level": _levels(alerts),
        "by_kind": {k: sum(a.last.kind.value == k for a in alerts) for k in KINDS},
        "systemic": {k: sum(a.systemic_kind == k for a in alerts) for k in SYSTEMIC_KINDS},
        "by_module": _by(alerts, lambda a: a.last.module),
        "by_scope_kind": _by(alerts, lambda a: a.scope_kind),
        "by_town": _by(alerts, town),
        "emergency": sum(a.last.emergency for a in alerts),
        "inhibited": sum(not a.paged for a in alerts),
        "without_order": sum(a.paged and a.alert_id not in with_order for a in alerts),
        "per_hour": per_hour([a.raised_at for a in alerts], period, tz),
    }


def per_hour(times: Sequence[datetime], period: Period, tz: tzinfo) -> list[Json]:
    """Counts per clock hour (in ``tz``), every hour of the period (or of the data) listed."""

    def floor(t: datetime) -> datetime:
        return t.astimezone(tz).replace(minute=0, second=0, microsecond=0)

    counts = Counter(floor(t) for t in times)
    first = floor(period.since) if period.since else min(counts, default=None)
    last = period.until.astimezone(tz) if period.until else None
    if first is None:
        return []
    if last is None:
        last = max(counts) + timedelta(hours=1)
    out, t = [], first
    while t < last:
        out.append({"hour": t.isoformat(), "alerts": counts[t]})
        t += timedelta(hours=1)
    return out


def order_figures(orders: Sequence[OrderFacts]) -> Json:
    return {
        "total": len(orders),
        "by_sla_class": dict(sorted(Counter(o.order.sla_class.value for o in orders).items())),
        "by_state": {
            s.value: sum(o.final_state is s for o in orders)
            for s in OrderState
            if any(o.final_state is s for o in orders)
        },
        "auto_disposable": sum(o.order.auto_disposal is not None for o in orders),
    }


def grade(compliance: float | None) -> str:
    """The assessment of a handling's on-time share.

    >>> grade(0.97), grade(0.85), grade(0.5), grade(None)
    ('good', 'needs attention', 'poor', 'no deadline decided')
    """
    if compliance is None:
        return "no deadline decided"
    return next((name for floor, name in GRADES if compliance >= floor), "poor")


def tally(orders: Sequence[OrderFacts], stage: str | None = None) -> Json:
    """Stages met, missed and open (all stages, or one) and the compliance they give."""
    c = Counter(o.stage_outcome(s) for o in orders for s in o.order.deadlines if stage in (None, s))
    decided = c["met"] + c["missed"]
    return {
        "stages": sum(c.values()),
        **{k: c[k] for k in OUTCOMES},
        "compliance": ratio(c["met"], decided),
    }


def assessment(orders: Sequence[OrderFacts]) -> Json:
    """One group's handling: its tally, per stage, breaches, times, and the verdict."""
    row = tally(orders)
    took = times(orders)
    stages = sorted({s for o in orders for s in o.order.deadlines})
    return {
        "orders": len(orders),
        **row,
        "by_stage": {s: tally(orders, s) for s in stages},
        "breaches": sum(len(o.breached) for o in orders),
        "auto_resolved": sum(o.final_state is OrderState.AUTO_RESOLVED for o in orders),
        "mtta_s": took["mtta"]["mean_s"],
        "mttr_s": took["mttr"]["mean_s"],
        "assessment": grade(row["compliance"]),
    }


def _groups(orders: Sequence[OrderFacts], key: Callable[[OrderFacts], str]) -> Json:
    groups: dict[str, list[OrderFacts]] = {}
    for o in orders:
        groups.setdefault(key(o), []).append(o)
    return {k: assessment(v) for k, v in sorted(groups.items())}


def sla_figures(
    orders: Sequence[OrderFacts], breaches: Sequence[SlaBreach], known_orders: set[str]
) -> Json:
    by_class: Json = {}
    for cls in sorted({o.order.sla_class.value for o in orders}):
        mine = [o for o in orders if o.order.sla_class.value == cls]
        stages = list(dict.fromkeys(s for o in mine for s in o.order.deadlines))
        by_class[cls] = {s: tally(mine, s) for s in stages}
    observed = Counter(s for o in orders for s in o.breached)
    unknown = {(b.order_id, b.stage) for b in breaches if b.order_id not in known_orders}
    has_department = any(getattr(o.order, "department", None) for o in orders)
    return {
        "all": tally(orders),
        "by_class": by_class,
        "breaches": {
            "observed": sum(observed.values()),
            "by_stage": dict(sorted(observed.items())),
            "of_unknown_orders": len(unknown),
        },
        "department_source": "order" if has_department else "alert module",
        "by_department": _groups(orders, lambda o: o.department),
        "by_role": _groups(orders, lambda o: o.role),
        "by_receiver": _groups(orders, lambda o: o.order.receiver),
    }


def auto_disposal(orders: Sequence[OrderFacts], period: Period) -> Json:
    auto = [o for o in orders if o.order.auto_disposal is not None]
    resolved = sum(o.final_state is OrderState.AUTO_RESOLVED for o in orders)
    return {
        "orders": len(orders),
        "auto_disposable": len(auto),
        "auto_resolved": resolved,
        "ratio": ratio(resolved, len(orders)),
        "ratio_of_auto_disposable": ratio(
            sum(o.final_state is OrderState.AUTO_RESOLVED for o in auto), len(auto)
        ),
        "per_day": resolved / period.days if period.days else None,
        "escalated_at_recheck": sum("recheck" in o.escalations for o in auto),
        "help_requested": sum("help_requested" in o.escalations for o in auto),
        "in_progress": sum(o.final_state is OrderState.AUTO_DISPOSING for o in auto),
    }


def times(orders: Sequence[OrderFacts]) -> Json:
    def since_created(o: OrderFacts, t: datetime | None) -> list[float]:
        return [] if t is None else [(t - o.created).total_seconds()]

    machine = [o for o in orders if o.final_state is OrderState.AUTO_RESOLVED]
    person = [o for o in orders if o.final_state is not OrderState.AUTO_RESOLVED]
    return {
        "mtta": durations([x for o in orders for x in since_created(o, o.signed_at)]),
        "mttr": durations([x for o in orders for x in since_created(o, o.resolved_at)]),
        "mttr_person": durations([x for o in person for x in since_created(o, o.resolved_at)]),
        "mttr_machine": durations([x for o in machine for x in since_created(o, o.resolved_at)]),
    }


def escalations(orders: Sequence[OrderFacts]) -> Json:
    breached = [o for o in orders if o.breached]
    return {
        "orders_escalated": sum(bool(o.escalations) for o in orders),
        "at_recheck": sum("recheck" in o.escalations for o in orders),
        "help_requested": sum("help_requested" in o.escalations for o in orders),
        "with_breach": len(breached),
        "breaches": sum(len(o.breached) for o in breached),
        "breaches_to": dict(sorted(Counter(o.order.escalate_to for o in breached).items())),
    }


def notifications(
    orders: Sequence[OrderFacts], topics: Topics, stub_messages: Sequence[Mapping[str, Any]] | None
) -> Json:
    mine = {o.order.order_id for o in orders}
    requests = {n.idempotency_key: n for n in topics.notifications if n.order_id in mine}
    ids = {n.notification_id for n in requests.values()}
    status: dict[str, set[ReceiptStatus]] = {}
    for r in topics.receipts:
        if r.notification_id in ids:
            status.setdefault(r.notification_id, set()).add(r.status)
    delivered = sum(ReceiptStatus.DELIVERED in s for s in status.values())
    out: Json = {
        "requested": len(requests),
        "by_purpose": dict(sorted(Counter(n.purpose for n in requests.values()).items())),
        "by_channel": dict(sorted(Counter(n.channel.value for n in requests.values()).items())),
        "delivered": delivered,
        "failed": sum(ReceiptStatus.DELIVERED not in s for s in status.values()),
        "no_receipt": len(ids) - len(status),
        "stubs": None,
    }
    if stub_messages is not None:
        accepted = Counter(str(m.get("idempotency_key")) for m in stub_messages)
        out["stubs"] = {
            "accepted": sum(accepted.values()),
            "duplicate_notifications": sum(n > 1 for n in accepted.values()),
            "requested_not_accepted": sum(k not in accepted for k in requests),
        }
    return out


def summary(figures: Json) -> Json:
    """The district-day keys this report can give (issue 10's definitions)."""
    gt = figures.get("ground_truth") or {}
    stubs = figures["notifications"]["stubs"]
    return {
        "sensors": gt.get("sensors"),
        "incidents": gt.get("incidents"),
        "alerts": figures["alerts"]["total"],
        "orders": figures["orders"]["total"],
        "auto_disposed_ratio": figures["auto_disposal"]["ratio"],
        "auto_disposed_per_day": figures["auto_disposal"]["per_day"],
        "recall": gt.get("recall"),
        "false_alerts_per_1000_sensor_days": gt.get("false_alerts_per_1000_sensor_days"),
        "systemic_alerts": figures["alerts"]["systemic"],
        "systemic_matched": {k: v["group_matched"] for k, v in (gt.get("systemic") or {}).items()},
        "compound_alerts": figures["alerts"]["by_kind"]["compound"],
        "groups_detected": {
            k: f"{v['groups_detected']}/{v['groups']}"
            for k, v in (gt.get("systemic") or {}).items()
            if v["groups"]
        },
        "sla_breaches_observed": figures["sla"]["breaches"]["observed"],
        "duplicate_notifications": stubs["duplicate_notifications"] if stubs else None,
    }


__all__ = ["DEFINITIONS", "Period", "Topics", "compute", "grade", "summary", "tally"]
