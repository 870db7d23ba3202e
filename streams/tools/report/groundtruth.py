"""Ground truth: which injected incidents the alerts found, and which alerts were false.

(alert → **report**.) The simulator writes its ground truth as JSON lines
(``yujing simulate --truth``): one object per injected incident or sensor
fault, with its id, risk point and module (incidents) or fault kind, place,
grid cell, community, town, industry, sensor, start and end. An incident's
``risk_kind`` says whether it is ``single`` (at one place: what recall counts)
or a *group* incident (``regional``, ``industry``, ``trend``, ``comprehensive``,
``compound``: one cause over many places or modules), whose members are single
incidents of their own. A line with an integer ``sensors`` gives the sensor
count (with ``start``/``end``, the span). Pure: no Kafka, no files.

An alert **matches** an incident when all three hold:

- *where*: the alert was raised by the incident's sensor, or its scope is the
  incident's place or contains it (its grid cell, community, town; an industry
  alert: the place's industry; a district alert: anywhere), or one of its
  contributing signals is at the place;
- *what*: the incident's risk point is among the alert's, or its module is the
  alert's module or that of one of its contributing signals;
- *when*: the alert's evidence reaches into the incident: its window (or, for a
  single alert, the moment it was raised) starts no later than the incident's
  end plus the allowed delay, and its latest evidence is not before the start.

Who may match what (strictly):
- a *single* incident is found only by single and compound alerts (a systemic
  alert says "many places", never "this place": it does not count for recall);
- a *group* incident of kind K (``regional``, ``industry``, ``trend``,
  ``comprehensive``, ``compound``) is *detected* by an alert of that kind (a
  compound alert at the group's place; a systemic alert whose rule is of kind
  K, over the group's town or industry for regional and industry) whose
  evidence holds one of the group's members (a contributing signal at the
  member's place, of its risk point or module, or the member's sensor among
  its source keys), *when* as above;
- an alert is *matched* (not false) when it matches a single incident (single
  and compound alerts) or detects a group incident, or, a systemic alert, when
  most of its evidence is members of injected groups of any kind (a storm also
  raises its modules' trends: a pattern the injections made); any other
  systemic alert is false (a chance pattern).

An alert matches a sensor fault when the faulty sensor raised it (its source
keys) in the fault's window plus the delay. Faults are not incidents.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from schemas import OrderState
from streams.tools.report.facts import AlertFacts, OrderFacts, Period, durations, ratio
from streams.tools.report.matching import alert_kind, caused, detects, span, what, when, where
from streams.tools.report.truth import Entry, Truth, parse_truth

Json = dict[str, Any]
DEFAULT_DELAY_S = 1800.0
#: at most this many ids are listed (missed incidents, false alerts)
LISTED = 50

#: group incident kinds, and the alert kinds reported per kind
GROUP_KINDS = ("trend", "regional", "industry", "comprehensive", "compound")

DEFINITIONS = {
    "match": "an alert matches an incident when where (its sensor, its place or a scope "
    "containing it, or a contributing signal there), what (its risk point or module) and "
    "when (evidence between the incident's start and its end + allowed delay) all hold",
    "recall": "single injected incidents (one place each, group members included) starting "
    "in the period matched by at least one single or compound alert (never a systemic one) "
    "/ those incidents",
    "groups": "a group incident of kind K (regional, industry, trend, comprehensive, "
    "compound) is detected by an alert of kind K (compound: at the group's place; regional, "
    "industry: over its town or industry) whose evidence holds one of the group's members "
    "(a contributing signal at a member's place of its risk point or module, or a member's "
    "sensor among its source keys), when as for a match",
    "by_kind": "per kind: alerts raised, alerts matched (not false), alerts that detect an "
    "injected group of their kind, groups injected and groups detected",
    "false_alerts": "alerts of the period that match no single incident (single and compound "
    "alerts) and detect no group incident of their kind, nor (systemic) have most of their "
    "evidence from injected groups' members: a chance pattern is false; from_faults: of "
    "those, the ones a faulty sensor raised during its fault (+ delay)",
    "false_alerts_per_1000_sensor_days": "false alerts * 1000 / (sensors * days of the period)",
    "recheck": "the machine re-checks of auto-disposal against the truth: an order auto-resolved "
    "is right when no incident its alert matched was still on at the re-check (incident end "
    "after it: resolved_while_on); one escalated by its re-check is right when one was "
    "(escalated_after_end: every incident it matched had ended; escalated_no_incident: its "
    "alert matched none)",
}


class _ByTime:
    """Alerts by span start, to look only at those that can overlap a window."""

    def __init__(self, alerts: Sequence[AlertFacts]) -> None:
        spans = sorted(((span(a), a) for a in alerts), key=lambda x: (x[0][0], x[1].alert_id))
        self.los = [s[0] for s, _ in spans]
        self.alerts = [a for _, a in spans]
        self.widest = max((s[1] - s[0] for s, _ in spans), default=timedelta(0))

    def near(self, e: Entry, delay: timedelta) -> list[AlertFacts]:
        i = bisect.bisect_left(self.los, e.start - self.widest)
        j = bisect.bisect_right(self.los, e.end + delay)
        return [a for a in self.alerts[i:j] if when(a, e, delay)]


def assess(
    alerts: Sequence[AlertFacts],
    truth: Truth,
    period: Period,
    *,
    delay_s: float = DEFAULT_DELAY_S,
    ancestors: Mapping[str, Sequence[str]] | None = None,
    rechecks: Mapping[str, tuple[datetime, bool]] | None = None,
) -> Json:
    """Recall, false alerts and what the compound and systemic alerts matched, for
    ``period`` (the rules: the module docstring); with ``rechecks`` (alert id → when its
    order's machine re-check judged, and whether it resolved the order), how often the
    re-check was right."""
    delay = timedelta(seconds=delay_s)
    up = ancestors or {}
    index = _ByTime(alerts)
    incidents = [e for e in truth.incidents if period.contains(e.start)]
    groups = [e for e in truth.groups if period.contains(e.start)]
    faults = [e for e in truth.faults if period.contains(e.start)]
    by_id = {e.id: e for e in truth.entries}
    members_of = {g.id: {m: by_id[m] for m in g.members if m in by_id} for g in groups}
    for e in truth.entries:
        if e.group in members_of:
            members_of[e.group][e.id] = e

    found: dict[str, list[AlertFacts]] = {
        e.id: [
            a
            for a in index.near(e, delay)
            if not a.systemic_kind and where(a.last, e, up) and what(a.last, e)
        ]
        for e in incidents
    }
    group_found = {
        g.id: [a for a in index.near(g, delay) if detects(a, g, list(members_of[g.id].values()))]
        for g in groups
    }
    to_group = {a.alert_id for h in group_found.values() for a in h}
    in_groups = [m for g in members_of.values() for m in g.values()]
    made = {a.alert_id for a in alerts if a.systemic_kind and caused(a.last, in_groups, delay)}
    matched = to_group | made | {a.alert_id for h in found.values() for a in h}
    false = [a for a in alerts if a.alert_id not in matched]
    fault_hit: set[str] = set()
    for f in faults:
        for a in index.near(f, delay):
            by_sensor = f.sensor_id is not None and f.sensor_id in a.last.source_keys
            if a.alert_id not in matched and (
                by_sensor or (not f.sensor_id and where(a.last, f, up))
            ):
                fault_hit.add(a.alert_id)
    detected = [e for e in incidents if found[e.id]]
    days = period.days if period.days is not None else truth.days
    sensor_days = truth.sensors * days if truth.sensors is not None and days else None
    kinds = Counter(alert_kind(a) for a in alerts)
    kinds_matched = Counter(alert_kind(a) for a in alerts if a.alert_id in matched)
    kinds_to_group = Counter(alert_kind(a) for a in alerts if a.alert_id in to_group)
    injected = Counter(g.kind for g in groups)
    detected_groups = Counter(g.kind for g in groups if group_found[g.id])
    verdicts = recheck_verdicts(found, incidents, rechecks or {})
    return {
        "match_delay_s": delay_s,
        "sensors": truth.sensors,
        "sensor_days": sensor_days,
        "incidents": len(incidents),
        "detected": len(detected),
        "recall": ratio(len(detected), len(incidents)),
        "missed": [e.id for e in incidents if not found[e.id]][:LISTED],
        "by_module": _recall_by(incidents, found, lambda e: e.module or "(none)"),
        "groups": _recall_by(groups, group_found, lambda e: e.kind),
        "groups_missed": [g.id for g in groups if not group_found[g.id]][:LISTED],
        "detection_delay": durations(
            [
                max(0.0, (min(a.raised_at for a in found[e.id]) - e.start).total_seconds())
                for e in detected
            ]
        ),
        "alerts_matched": len(matched),
        "false_alerts": len(false),
        "false_alerts_from_faults": len(fault_hit),
        "false_alerts_by_kind": dict(sorted(Counter(a.last.kind.value for a in false).items())),
        "false_alerts_per_1000_sensor_days": len(false) * 1000 / sensor_days
        if sensor_days
        else None,
        "false_alert_ids": [a.alert_id for a in false][:LISTED],
        "faults": len(faults),
        "systemic": {
            k: {
                "alerts": kinds[k],
                "matched": kinds_matched[k],
                "group_matched": kinds_to_group[k],
                "groups": injected[k],
                "groups_detected": detected_groups[k],
            }
            for k in GROUP_KINDS
        },
        "recheck": verdicts,
    }


def recheck_outcomes(orders: Sequence[OrderFacts]) -> dict[str, tuple[datetime, bool]]:
    """Alert id → when its order's machine re-check judged, and whether it resolved it
    (orders a person took over before their re-check are not judged)."""
    out: dict[str, tuple[datetime, bool]] = {}
    for o in orders:
        resolved = o.at(OrderState.AUTO_RESOLVED)
        if resolved is not None:
            out[o.order.alert_id] = (resolved, True)
        elif "recheck" in o.escalations and (opened := o.at(OrderState.OPEN)) is not None:
            out[o.order.alert_id] = (opened, False)
    return out


def recheck_verdicts(
    found: Mapping[str, list[AlertFacts]],
    incidents: Sequence[Entry],
    rechecks: Mapping[str, tuple[datetime, bool]],
) -> Json:
    """The re-checks' verdicts against the incidents their alerts matched (``found``:
    incident id → matching alerts)."""
    matched: dict[str, list[Entry]] = {}
    for e in incidents:
        for a in found[e.id]:
            matched.setdefault(a.alert_id, []).append(e)
    n = Counter[str]()
    for alert_id, (t, resolved) in rechecks.items():
        on = any(e.end > t for e in matched.get(alert_id, ()))
        if resolved:
            n["resolved"] += 1
            n["resolved_while_on"] += on
        else:
            n["escalated"] += 1
            n["escalated_no_incident"] += alert_id not in matched
            n["escalated_after_end"] += alert_id in matched and not on
    wrong = n["resolved_while_on"] + n["escalated_no_incident"] + n["escalated_after_end"]
    keys = ("resolved", "resolved_while_on", "escalated", "escalated_after_end")
    return {
        "judged": len(rechecks),
        **{k: n[k] for k in (*keys, "escalated_no_incident")},
        "right": ratio(len(rechecks) - wrong, len(rechecks)),
    }


def _recall_by(incidents: Sequence[Entry], found: Mapping[str, list[AlertFacts]], key: Any) -> Json:
    groups: dict[str, list[Entry]] = {}
    for e in incidents:
        groups.setdefault(key(e), []).append(e)
    return {
        k: {
            "incidents": len(v),
            "detected": sum(bool(found[e.id]) for e in v),
            "recall": ratio(sum(bool(found[e.id]) for e in v), len(v)),
        }
        for k, v in sorted(groups.items())
    }


__all__ = [
    "DEFAULT_DELAY_S",
    "GROUP_KINDS",
    "Entry",
    "Truth",
    "assess",
    "parse_truth",
    "what",
    "when",
    "where",
]
