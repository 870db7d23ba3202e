"""A second, deliberately plain computation of ``yujing report``'s figures, for its e2e test.

It reads the topics' records as raw JSON (no schema models, nothing from
``streams.core``) and follows the definitions the report prints, one loop per
figure, so a bug in the report's own code cannot hide in both.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from truth_oracle import truth_figures

Json = dict[str, Any]
LEVELS = ("low", "medium", "high", "critical")
#: the stage → states that meet it (streams.core.orders.lifecycle's table, written out again)
MEETS = {
    "signed": {"assigned", "arrived", "resolved", "closed", "auto_resolved"},
    "arrived": {"arrived", "resolved", "closed", "auto_resolved"},
    "resolved": {"closed", "auto_resolved"},
}


def t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def stats(xs: list[float]) -> Json:
    xs = sorted(xs)
    if not xs:
        return {"n": 0, "mean_s": None, "p50_s": None, "p90_s": None}

    def pick(q: float) -> float:
        return xs[max(0, math.ceil(q * len(xs)) - 1)]

    return {"n": len(xs), "mean_s": sum(xs) / len(xs), "p50_s": pick(0.5), "p90_s": pick(0.9)}


def share(a: int, b: int) -> float | None:
    return a / b if b else None


def oracle(
    raw: dict[str, list[Json]],
    since: datetime,
    until: datetime,
    town_of: dict[str, str],
    truth: list[Json],
    sensors: int,
    stub_keys: list[str],
    delay_s: float = 1800.0,
) -> Json:

    def inside(x: datetime) -> bool:
        return since <= x < until

    # --- alerts: distinct ids, raised (first version) in the period, the latest version's fields
    versions: dict[str, list[Json]] = defaultdict(list)
    for a in raw["alerts"]:
        versions[a["alert_id"]].append(a)
    alerts = {}
    for aid, vs in versions.items():
        vs.sort(key=lambda a: (a["version"], t(a["event_time"])))
        if inside(t(vs[0]["event_time"])):
            alerts[aid] = (vs[0], vs[-1], any(v["inhibited_by"] is None for v in vs))
    ordered_alerts = {o["alert_id"] for o in raw["orders"]}

    def levels(ids: list[str]) -> Json:
        c = Counter(alerts[i][1]["level"] for i in ids)
        return {"total": len(ids), **{lv: c[lv] for lv in LEVELS}}

    def by(key: Any) -> Json:
        groups: dict[str, list[str]] = defaultdict(list)
        for i, (first, last, _) in alerts.items():
            groups[key(first, last)].append(i)
        return {k: levels(v) for k, v in sorted(groups.items())}

    def town(first: Json, last: Json) -> str:
        kind = last["scope_kind"] or "place"
        if kind == "town":
            return last["scope"]
        if kind in ("industry", "district"):
            return "(district-wide)"
        return town_of.get(last["scope"], "(unknown)")

    hours = Counter(
        t(f["event_time"]).astimezone(since.tzinfo).replace(minute=0, second=0, microsecond=0)
        for f, _, _ in alerts.values()
    )
    per_hour = [
        {
            "hour": (since + timedelta(hours=h)).isoformat(),
            "alerts": hours[since + timedelta(hours=h)],
        }
        for h in range(24)
    ]

    def rule_kind(last: Json) -> str | None:
        if last["kind"] != "systemic":
            return None
        return str((last["portrait"] or {}).get("rule_kind", "systemic"))

    systemic = {
        k: sum(rule_kind(last) == k for _, last, _ in alerts.values())
        for k in ("trend", "regional", "industry", "comprehensive")
    }
    out: Json = {
        "alerts": {
            "total": len(alerts),
            "by_level": levels(list(alerts)),
            "by_kind": {
                k: sum(last["kind"] == k for _, last, _ in alerts.values())
                for k in ("single", "compound", "systemic")
            },
            "systemic": systemic,
            "by_module": by(lambda f, last: last["module"]),
            "by_scope_kind": by(lambda f, last: last["scope_kind"] or "place"),
            "by_town": by(town),
            "emergency": sum(last["emergency"] for _, last, _ in alerts.values()),
            "inhibited": sum(not p for _, _, p in alerts.values()),
            "without_order": sum(p and i not in ordered_alerts for i, (_, _, p) in alerts.items()),
            "per_hour": per_hour,
        }
    }
    # --- orders created in the period, what the status and breach topics say about them
    orders: dict[str, Json] = {}
    for o in raw["orders"]:
        if o["order_id"] not in orders or t(o["event_time"]) < t(
            orders[o["order_id"]]["event_time"]
        ):
            orders[o["order_id"]] = o
    orders = {k: o for k, o in orders.items() if inside(t(o["event_time"]))}
    reached: dict[str, dict[str, tuple[datetime, str]]] = defaultdict(dict)
    for s in raw["statuses"]:
        old = reached[s["order_id"]].get(s["state"])
        if old is None or t(s["event_time"]) < old[0]:
            reached[s["order_id"]][s["state"]] = (t(s["event_time"]), s["cause"])
    breached = {(b["order_id"], b["stage"]) for b in raw["breaches"] if b["order_id"] in orders}
    rank = [
        "auto_disposing",
        "open",
        "signed",
        "assigned",
        "arrived",
        "resolved",
        "closed",
        "auto_resolved",
    ]

    def final(oid: str) -> str:
        r = reached[oid]
        if not r:
            return "auto_disposing" if orders[oid]["auto_disposal"] else "open"
        return max(r, key=lambda s: (r[s][0], rank.index(s)))

    def outcome(oid: str, stage: str) -> str:
        met = [when for s, (when, _) in reached[oid].items() if s in MEETS[stage]]
        if (oid, stage) in breached or (met and min(met) > t(orders[oid]["deadlines"][stage])):
            return "missed"
        return "met" if met else "open"

    def took(oid: str, states: tuple[str, ...]) -> list[float]:
        times = [reached[oid][s][0] for s in states if s in reached[oid]]
        return [(min(times) - t(orders[oid]["event_time"])).total_seconds()] if times else []

    def tally(oids: list[str], only: str | None = None) -> Json:
        c = Counter(
            outcome(o, s) for o in oids for s in orders[o]["deadlines"] if only in (None, s)
        )
        return {
            "stages": sum(c.values()),
            "met": c["met"],
            "missed": c["missed"],
            "open": c["open"],
            "compliance": share(c["met"], c["met"] + c["missed"]),
        }

    def group(key: Any) -> Json:
        groups: dict[str, list[str]] = defaultdict(list)
        for oid, o in orders.items():
            groups[key(o)].append(oid)
        res = {}
        for k, oids in sorted(groups.items()):
            row = tally(oids)
            c = row["compliance"]
            res[k] = {
                "orders": len(oids),
                **row,
                "breaches": sum((o, s) in breached for o in oids for s in orders[o]["deadlines"]),
                "auto_resolved": sum(final(o) == "auto_resolved" for o in oids),
                "mtta_s": stats([x for o in oids for x in took(o, ("signed",))])["mean_s"],
                "mttr_s": stats(
                    [x for o in oids for x in took(o, ("resolved", "closed", "auto_resolved"))]
                )["mean_s"],
                "assessment": "no deadline decided"
                if c is None
                else "good"
                if c >= 0.95
                else "needs attention"
                if c >= 0.8
                else "poor",
            }
        return res

    module_of = {a["alert_id"]: a["module"] for a in raw["alerts"]}
    auto = [o for o in orders if orders[o]["auto_disposal"]]
    n_auto_resolved = sum(final(o) == "auto_resolved" for o in orders)
    esc = {
        o: {reached[o]["open"][1]} & {"recheck", "help_requested"}
        if "open" in reached[o]
        else set()
        for o in orders
    }
    with_breach = sorted({o for o, _ in breached})
    out["orders"] = {
        "total": len(orders),
        "by_sla_class": dict(sorted(Counter(o["sla_class"] for o in orders.values()).items())),
        "by_state": dict(Counter(final(o) for o in orders)),
        "auto_disposable": len(auto),
    }
    by_class = {}
    for cls in sorted({o["sla_class"] for o in orders.values()}):
        mine = [k for k, o in orders.items() if o["sla_class"] == cls]
        by_class[cls] = {
            s: tally(mine, s)
            for s in dict.fromkeys(s for k in mine for s in orders[k]["deadlines"])
        }
    out["sla"] = {
        "all": tally(list(orders)),
        "by_class": by_class,
        "observed": len(breached),
        "by_department": group(
            lambda o: o.get("department") or module_of.get(o["alert_id"]) or "unknown"
        ),
        "by_role": group(lambda o: o.get("receiver_role") or o["assignee_role"]),
        "by_receiver": group(lambda o: o["receiver"]),
    }
    out["auto_disposal"] = {
        "orders": len(orders),
        "auto_disposable": len(auto),
        "auto_resolved": n_auto_resolved,
        "ratio": share(n_auto_resolved, len(orders)),
        "ratio_of_auto_disposable": share(
            sum(final(o) == "auto_resolved" for o in auto), len(auto)
        ),
        "per_day": n_auto_resolved / ((until - since).total_seconds() / 86400),
        "escalated_at_recheck": sum("recheck" in esc[o] for o in auto),
        "help_requested": sum("help_requested" in esc[o] for o in auto),
        "in_progress": sum(final(o) == "auto_disposing" for o in auto),
    }
    out["times"] = {
        "mtta": stats([x for o in orders for x in took(o, ("signed",))]),
        "mttr": stats(
            [x for o in orders for x in took(o, ("resolved", "closed", "auto_resolved"))]
        ),
    }
    out["escalations"] = {
        "orders_escalated": sum(bool(esc[o]) or o in with_breach for o in orders),
        "at_recheck": sum("recheck" in esc[o] for o in orders),
        "help_requested": sum("help_requested" in esc[o] for o in orders),
        "with_breach": len(with_breach),
        "breaches": len(breached),
        "breaches_to": dict(sorted(Counter(orders[o]["escalate_to"] for o in with_breach).items())),
    }
    # --- notifications of the period's orders, and what the stubs accepted
    requested = {n["idempotency_key"]: n for n in raw["notifications"] if n["order_id"] in orders}
    nids = {n["notification_id"] for n in requested.values()}
    got: dict[str, set[str]] = defaultdict(set)
    for r in raw["receipts"]:
        if r["notification_id"] in nids:
            got[r["notification_id"]].add(r["status"])
    keys = Counter(stub_keys)
    out["notifications"] = {
        "requested": len(requested),
        "delivered": sum("delivered" in s for s in got.values()),
        "failed": sum("delivered" not in s for s in got.values()),
        "no_receipt": len(nids) - len(got),
        "stubs": {
            "accepted": len(stub_keys),
            "duplicate_notifications": sum(n > 1 for n in keys.values()),
            "requested_not_accepted": sum(k not in keys for k in requested),
        },
    }
    out["ground_truth"] = truth_figures(alerts, truth, since, until, sensors, delay_s)
    return out


def stub_keys(messages: list[Json]) -> list[str]:
    return [str(m.get("idempotency_key")) for m in messages]


def records_as_json(records: list[Any]) -> list[Json]:
    return [json.loads(r.value) for r in records]
