"""The ground-truth half of ``report_oracle``: recall and false alerts, recomputed plainly.

Follows the matching rules ``yujing report`` prints (where, what, when; group incidents
by a systemic alert over their scope) with loops over raw JSON, nothing from ``streams``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

Json = dict[str, Any]


def t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def share(a: int, b: int) -> float | None:
    return a / b if b else None


def truth_figures(
    alerts: dict[str, tuple[Json, Json, bool]],
    truth: list[Json],
    since: datetime,
    until: datetime,
    sensors: int,
    delay_s: float,
) -> Json:
    delay = timedelta(seconds=delay_s)
    of_day = [e for e in truth if since <= t(e["start"]) < until]
    incidents = [
        e for e in of_day if e["type"] == "incident" and e.get("risk_kind", "single") == "single"
    ]
    groups = [e for e in of_day if e["type"] == "incident" and e not in incidents]
    faults = [e for e in truth if e["type"] == "fault" and since <= t(e["start"]) < until]

    def contribs(a: Json) -> list[Json]:
        return (a["portrait"] or {}).get("contributions", [])

    def when(first: Json, last: Json, e: Json) -> bool:
        raised = t(first["event_time"])
        lo = min([raised] + [t(x) for x in (first["window_start"], last["window_start"]) if x])
        hi = max(raised, t(last["event_time"]))
        return lo <= t(e["end"]) + delay and hi >= t(e["start"])

    def where(a: Json, e: Json) -> bool:
        kind = a["scope_kind"] or "place"
        if kind == "district":
            return True
        if kind == "industry":
            return a["scope"] == e["industry"]
        places = {c["place_id"] for c in contribs(a)} | (
            {a["scope"]} if kind in ("place", "grid_cell") else set()
        )
        return (
            e["sensor_id"] in a["source_keys"]
            or a["scope"] in (e["place_id"], e["community"], e["town"])
            or e["place_id"] in places
        )

    def over(a: Json, g: Json) -> bool:
        """A systemic alert whose scope holds a group incident (a town or an industry)."""
        kind = a["scope_kind"]
        return kind == "district" or (kind in ("town", "industry") and a["scope"] == g[kind])

    def what(a: Json, e: Json) -> bool:
        return e["risk_point"] in a["risk_points"] or e["module"] in {
            a["module"],
            *(c["module"] for c in contribs(a)),
        }

    hits = {
        e["id"]: [
            i
            for i, (f, last, _) in alerts.items()
            if when(f, last, e) and where(last, e) and what(last, e)
        ]
        for e in incidents
    }
    group_hits = {
        g["id"]: [
            i
            for i, (f, last, _) in alerts.items()
            if last["kind"] == "systemic" and when(f, last, g) and over(last, g) and what(last, g)
        ]
        for g in groups
    }
    matched = {i for v in [*hits.values(), *group_hits.values()] for i in v}
    false = [i for i in alerts if i not in matched]
    kinds_of_groups: dict[str, list[str]] = defaultdict(list)
    for g in groups:
        kinds_of_groups[g["risk_kind"]].append(g["id"])
    from_faults = {
        i
        for i in false
        for e in faults
        if e["sensor_id"] in alerts[i][1]["source_keys"] and when(alerts[i][0], alerts[i][1], e)
    }
    modules: dict[str, list[str]] = defaultdict(list)
    for e in incidents:
        modules[e["module"]].append(e["id"])
    days = (until - since).total_seconds() / 86400
    kinds = ("trend", "regional", "industry", "comprehensive")
    kind_of = {
        i: (last["portrait"] or {}).get("rule_kind")
        for i, (_, last, _) in alerts.items()
        if last["kind"] == "systemic"
    }
    return {
        "incidents": len(incidents),
        "detected": sum(bool(v) for v in hits.values()),
        "recall": share(sum(bool(v) for v in hits.values()), len(incidents)),
        "by_module": {
            m: {
                "incidents": len(v),
                "detected": sum(bool(hits[i]) for i in v),
                "recall": share(sum(bool(hits[i]) for i in v), len(v)),
            }
            for m, v in sorted(modules.items())
        },
        "groups": {
            k: {
                "incidents": len(v),
                "detected": sum(bool(group_hits[i]) for i in v),
                "recall": share(sum(bool(group_hits[i]) for i in v), len(v)),
            }
            for k, v in sorted(kinds_of_groups.items())
        },
        "alerts_matched": len(matched),
        "false_alerts": len(false),
        "false_alerts_from_faults": len(from_faults),
        "false_alerts_per_1000_sensor_days": len(false) * 1000 / (sensors * days),
        "sensor_days": sensors * days,
        "faults": len(faults),
        "systemic": {
            k: {
                "alerts": sum(v == k for v in kind_of.values()),
                "matched": sum(v == k and i in matched for i, v in kind_of.items()),
            }
            for k in kinds
        },
    }
