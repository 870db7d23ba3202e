"""The ground-truth half of ``report_oracle``: recall and false alerts, recomputed plainly.

Follows the matching rules ``yujing report`` prints (where, what, when; single incidents
by single and compound alerts only; a group incident by an alert of its own kind whose
evidence holds one of its members; a systemic alert that detects no group and whose evidence
is not mostly injected groups' members is false) with
loops over raw JSON, nothing from ``streams``.
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

    def kind_of_alert(a: Json) -> str:
        if a["kind"] == "systemic":
            return str((a["portrait"] or {}).get("rule_kind"))
        return str(a["kind"])

    def over(a: Json, g: Json) -> bool:
        """The alert is of the group's kind, at its place (compound) or over its town or
        industry (regional, industry), or district-wide (trend, comprehensive)."""
        kind = g["risk_kind"]
        if kind_of_alert(a) != kind:
            return False
        if kind == "compound":
            return a["scope"] == g["place_id"]
        if kind == "regional" and a["scope_kind"] == "town":
            return a["scope"] == g["town"]
        if kind == "industry":
            return a["scope"] == g["industry"]
        return True

    def holds(a: Json, m: Json) -> bool:
        if m.get("sensor_id") and m["sensor_id"] in a["source_keys"]:
            return True
        return any(
            c["place_id"] == m.get("place_id")
            and (c["risk_point"] == m["risk_point"] or c["module"] == m["module"])
            for c in contribs(a)
        )

    def what(a: Json, e: Json) -> bool:
        return e["risk_point"] in a["risk_points"] or e["module"] in {
            a["module"],
            *(c["module"] for c in contribs(a)),
        }

    members: dict[str, list[Json]] = defaultdict(list)
    for e in truth:
        if e["type"] == "incident" and e.get("group"):
            members[e["group"]].append(e)
    hits = {
        e["id"]: [
            i
            for i, (f, last, _) in alerts.items()
            if last["kind"] != "systemic" and when(f, last, e) and where(last, e) and what(last, e)
        ]
        for e in incidents
    }
    group_hits = {
        g["id"]: [
            i
            for i, (f, last, _) in alerts.items()
            if over(last, g) and when(f, last, g) and any(holds(last, m) for m in members[g["id"]])
        ]
        for g in groups
    }
    in_groups = [m for g in groups for m in members[g["id"]]]

    def made_by_groups(a: Json) -> bool:
        """More than half of a systemic alert's contributions are injected groups'
        members (at a member's place, of its risk point or module, in its time)."""
        cs = contribs(a)
        n = 0
        for c in cs:
            for m in in_groups:
                same = c["risk_point"] == m["risk_point"] or c["module"] == m["module"]
                lo, hi = t(m["start"]), t(m["end"]) + delay
                if c["place_id"] == m.get("place_id") and same and lo <= t(c["event_time"]) <= hi:
                    n += 1
                    break
        return len(cs) > 0 and 2 * n > len(cs)

    made = {
        i
        for i, (_, last, _) in alerts.items()
        if last["kind"] == "systemic" and made_by_groups(last)
    }
    matched = {i for v in [*hits.values(), *group_hits.values()] for i in v} | made
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
    kinds = ("trend", "regional", "industry", "comprehensive", "compound")
    kind_of = {i: kind_of_alert(last) for i, (_, last, _) in alerts.items()}
    to_group = {i for v in group_hits.values() for i in v}
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
                "group_matched": sum(v == k and i in to_group for i, v in kind_of.items()),
                "groups": len(kinds_of_groups.get(k, [])),
                "groups_detected": sum(bool(group_hits[i]) for i in kinds_of_groups.get(k, [])),
            }
            for k in kinds
        },
    }
