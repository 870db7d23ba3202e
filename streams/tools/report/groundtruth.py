"""Ground truth: which injected incidents the alerts found, and which alerts were false.

(alert → **report**.) The simulator writes its ground truth as JSON lines
(``yujing simulate --truth``): one object per injected incident or sensor
fault, with its id, risk point and module (incidents) or fault kind, place,
grid cell, community, town, industry, sensor, start and end. An incident's
``risk_kind`` says whether it is ``single`` (at one place: what recall counts)
or a *group* incident (``regional``, ``industry``, ...): one cause over a town or
an industry, whose members are single incidents of their own. Any other line
that carries an integer ``sensors`` gives the district's sensor count (and,
with ``start``/``end``, the simulated span). Pure: no Kafka, no files.

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

A group incident is *detected* when a systemic alert matches it (where: its
scope is the group's town or industry, or the district). An alert matches a
sensor fault when the faulty sensor raised it (its source keys) in the fault's
window plus the delay. Faults are not incidents.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schemas import Alert, ScopeKind
from streams.tools.report.facts import AlertFacts, Period, durations, ratio

Json = dict[str, Any]
DEFAULT_DELAY_S = 1800.0
#: at most this many ids are listed (missed incidents, false alerts)
LISTED = 50

DEFINITIONS = {
    "match": "an alert matches an incident when where (its sensor, its place or a scope "
    "containing it, or a contributing signal there), what (its risk point or module) and "
    "when (evidence between the incident's start and its end + allowed delay) all hold",
    "recall": "single injected incidents (one place each, group members included) starting "
    "in the period matched by at least one alert / those incidents",
    "groups": "group incidents (one cause over a town or an industry) matched by a systemic "
    "alert whose scope contains them",
    "false_alerts": "alerts of the period that match no incident (nor, if systemic, a group "
    "incident); from_faults: of those, "
    "the ones a faulty sensor raised during its fault (+ delay)",
    "false_alerts_per_1000_sensor_days": "false alerts * 1000 / (sensors * days of the period)",
}


@dataclass(frozen=True)
class Entry:
    """One injected incident or sensor fault."""

    id: str
    type: str  # "incident" or "fault"
    start: datetime
    end: datetime
    name: str = ""  # risk point or fault kind
    risk_point: str | None = None
    module: str | None = None
    kind: str = "single"  # a group incident: regional, industry, ... (its risk_kind)
    group: str | None = None  # a member of a group incident: the group's id
    place_id: str | None = None
    grid_cell: str | None = None
    community: str | None = None
    town: str | None = None
    industry: str | None = None
    sensor_id: str | None = None

    @property
    def area(self) -> set[str]:
        """The place and every region that contains it."""
        ids = (self.place_id, self.grid_cell, self.community, self.town)
        return {x for x in ids if x}


@dataclass(frozen=True)
class Truth:
    entries: tuple[Entry, ...]
    sensors: int | None = None
    days: float | None = None  # the simulated span, if the file says

    @property
    def incidents(self) -> list[Entry]:
        """Single incidents: one place each (group members included)."""
        return [e for e in self.entries if e.type == "incident" and e.kind == "single"]

    @property
    def groups(self) -> list[Entry]:
        """Group incidents: one cause over a town or an industry."""
        return [e for e in self.entries if e.type == "incident" and e.kind != "single"]

    @property
    def faults(self) -> list[Entry]:
        return [e for e in self.entries if e.type == "fault"]


def _time(doc: Mapping[str, Any], key: str) -> datetime:
    t = datetime.fromisoformat(str(doc[key]))
    if t.tzinfo is None:
        raise ValueError(f"{key} {doc[key]!r} has no UTC offset")
    return t


def parse_truth(lines: Iterable[str]) -> Truth:
    """Ground truth from JSON lines; a bad line raises ``ValueError`` naming it."""
    entries: list[Entry] = []
    sensors: int | None = None
    days: float | None = None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            kind = doc.get("type")
            if kind not in ("incident", "fault"):
                if isinstance(doc.get("sensors"), int) and not isinstance(doc["sensors"], bool):
                    sensors = doc["sensors"]
                    if "start" in doc and "end" in doc:
                        days = (_time(doc, "end") - _time(doc, "start")).total_seconds() / 86400
                continue
            text = {k: str(v) for k, v in doc.items() if isinstance(v, str) and v}
            risk_kind = text.get("risk_kind", "single")
            if risk_kind != "single":  # its place_id names its scope, not a place
                text.pop("place_id", None)
            entries.append(
                Entry(
                    id=text["id"],
                    type=kind,
                    start=_time(doc, "start"),
                    end=_time(doc, "end"),
                    name=text.get("risk_point") or text.get("fault", ""),
                    risk_point=text.get("risk_point"),
                    module=text.get("module"),
                    kind=risk_kind,
                    group=text.get("group"),
                    place_id=text.get("place_id"),
                    grid_cell=text.get("grid_cell"),
                    community=text.get("community"),
                    town=text.get("town"),
                    industry=text.get("industry"),
                    sensor_id=text.get("sensor_id"),
                )
            )
        except (ValueError, KeyError) as err:
            why = f"missing {err}" if isinstance(err, KeyError) else str(err)
            raise ValueError(f"line {n}: {why}") from None
    return Truth(tuple(entries), sensors, days)


def _places(alert: Alert) -> set[str]:
    out = (
        {alert.scope} if alert.scope_kind in (None, ScopeKind.PLACE, ScopeKind.GRID_CELL) else set()
    )
    if alert.portrait is not None:
        out |= {c.place_id for c in alert.portrait.contributions}
    return out


def where(alert: Alert, e: Entry, ancestors: Mapping[str, Sequence[str]]) -> bool:
    """The alert is about the entry's place (see the module docstring)."""
    kind = alert.scope_kind or ScopeKind.PLACE
    if kind is ScopeKind.DISTRICT:
        return True
    if kind is ScopeKind.INDUSTRY:
        return alert.scope == e.industry
    if e.sensor_id and e.sensor_id in alert.source_keys:
        return True
    area = e.area
    if alert.scope in area:
        return True
    if e.place_id:
        return e.place_id in _places(alert)
    return any(area.intersection(ancestors.get(p, ())) for p in _places(alert))


def what(alert: Alert, e: Entry) -> bool:
    if e.risk_point is None and e.module is None:
        return True
    if e.risk_point in alert.risk_points:
        return True
    contributions = alert.portrait.contributions if alert.portrait else []
    return e.module in {alert.module} | {c.module for c in contributions}


def span(a: AlertFacts) -> tuple[datetime, datetime]:
    """From its window's start (or when it was raised) to its latest evidence."""
    lo = min(a.raised_at, a.last.window_start or a.raised_at, a.first.window_start or a.raised_at)
    return lo, max(a.raised_at, a.last.event_time)


def when(a: AlertFacts, e: Entry, delay: timedelta) -> bool:
    lo, hi = span(a)
    return lo <= e.end + delay and hi >= e.start


class _ByTime:
    """Alerts indexed by span start, to look only at those that can overlap a window."""

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
) -> Json:
    """Recall, false alerts and what the systemic alerts matched, for ``period``."""
    delay = timedelta(seconds=delay_s)
    up = ancestors or {}
    index = _ByTime(alerts)
    incidents = [e for e in truth.incidents if period.contains(e.start)]
    groups = [e for e in truth.groups if period.contains(e.start)]
    faults = [e for e in truth.faults if period.contains(e.start)]

    def hits(e: Entry, systemic_only: bool = False) -> list[AlertFacts]:
        near = index.near(e, delay)
        if systemic_only:
            near = [a for a in near if a.systemic_kind]
        return [a for a in near if where(a.last, e, up) and what(a.last, e)]

    found = {e.id: hits(e) for e in incidents}
    found.update({g.id: hits(g, systemic_only=True) for g in groups})
    matched = {a.alert_id for h in found.values() for a in h}
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
    systemic = Counter(a.systemic_kind for a in alerts if a.systemic_kind)
    systemic_hit = Counter(
        a.systemic_kind for a in alerts if a.systemic_kind and a.alert_id in matched
    )
    return {
        "match_delay_s": delay_s,
        "sensors": truth.sensors,
        "sensor_days": sensor_days,
        "incidents": len(incidents),
        "detected": len(detected),
        "recall": ratio(len(detected), len(incidents)),
        "missed": [e.id for e in incidents if not found[e.id]][:LISTED],
        "by_module": _recall_by(incidents, found, lambda e: e.module or "(none)"),
        "groups": _recall_by(groups, found, lambda e: e.kind),
        "groups_missed": [g.id for g in groups if not found[g.id]][:LISTED],
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
            k: {"alerts": systemic[k], "matched": systemic_hit[k]}
            for k in ("trend", "regional", "industry", "comprehensive")
        },
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


__all__ = ["DEFAULT_DELAY_S", "Entry", "Truth", "assess", "parse_truth", "what", "when", "where"]
