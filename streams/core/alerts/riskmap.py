"""One map: risk levels per scope, open alerts per scope, one alert's portrait.

(compound / systemic alert → **map**.) Pure: built from the ``assess_scopes``
table entries a worker holds (the window store, :mod:`streams.core.alerts.store`).
An alert is open while its window is kept (until the scope's event-time
watermark passes end + lateness + ``keep_s``). A scope's level is the highest
level of the open alerts within it (its own and its descendants': a grid
cell's single alerts raise its community, town and district). Levels merge
across workers by taking the maximum, alerts by union.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from streams.core.alerts.evidence import Evidence
from streams.core.alerts.rules import LEVELS
from streams.core.alerts.single import alert_id_for
from streams.core.alerts.store import SIGNALS_RULE, ScopeMeta, Window
from streams.core.alerts.windows import to_dt
from streams.core.shared.regions import RegionIndex

Json = dict[str, Any]


def _brief(alert: Json) -> Json:
    keys = ("alert_id", "version", "kind", "rule_id", "level", "scope", "scope_kind", "summary")
    out = {k: alert.get(k) for k in keys}
    out["window_start"] = alert.get("window_start")
    out["inhibited_by"] = alert.get("inhibited_by")
    out["module"] = alert.get("module")  # for the console's trends
    out["event_time"] = alert.get("event_time")
    return out


def _single(ev: Evidence) -> Json:
    return {
        "alert_id": alert_id_for(ev.signal_id),
        "version": 1,
        "kind": "single",
        "rule_id": "single",
        "module": ev.module,
        "level": ev.severity,
        "scope": ev.place_id,
        "scope_kind": "place",
        "summary": f"{ev.risk_point} at {ev.place_id} ({ev.severity})",
        "window_start": None,
        "inhibited_by": None,
        "signal_id": ev.signal_id,
        "risk_point": ev.risk_point,
        "indicators": dict(ev.indicators),
        "source_event_ids": list(ev.source_event_ids),
        "event_time": to_dt(ev.t).isoformat(),
    }


class RiskMap:
    def __init__(self, index: RegionIndex, entries: Iterable[tuple[str, Json]]) -> None:
        self.index = index
        #: scope id → alert id → brief
        self.by_scope: dict[str, dict[str, Json]] = {}
        self.alerts: dict[str, Json] = {}
        self.kinds = index.scopes()
        self.watermarks: dict[str, str] = {}
        for key, v in entries:
            if not v:
                continue
            if key.startswith("meta|"):
                meta = ScopeMeta.model_validate(v)
                if meta.wm is not None:
                    self.watermarks[key[5:]] = to_dt(meta.wm).isoformat()
            if not key.startswith("win|"):
                continue
            window = Window.model_validate(v)
            if window.rule == SIGNALS_RULE:
                kind, _, scope_id = window.scope.partition(":")
                for ev in window.signals.values():
                    brief = _single(ev)
                    self.alerts.setdefault(brief["alert_id"], brief)
                    if kind == "industry":
                        chain = [window.scope]
                    elif kind == "district":
                        chain = [scope_id]
                    else:
                        chain = self._place_chain(ev.place_id)
                    self._add(chain, brief)
            if window.pub is not None:
                alert = window.pub.alert
                prev = self.alerts.get(alert["alert_id"])
                if prev is None or prev.get("version", 0) < alert["version"]:
                    self.alerts[alert["alert_id"]] = alert
                self._add(self._alert_chain(alert), _brief(alert))

    def _place_chain(self, place: str) -> list[str]:
        chain = self.index.ancestors(place)
        loc = self.index.locate(place)
        if loc is not None and loc.industry:
            chain.append(f"industry:{loc.industry}")
        if place not in self.kinds:
            self.kinds[place] = "place"
        return chain

    def _alert_chain(self, alert: Json) -> list[str]:
        kind, scope = alert.get("scope_kind"), alert["scope"]
        if kind == "place":
            return self._place_chain(scope)
        if kind == "industry":
            return [f"industry:{scope}"]
        return self.index.ancestors(scope)

    def _add(self, chain: list[str], brief: Json) -> None:
        for scope in chain:
            held = self.by_scope.setdefault(scope, {})
            old = held.get(brief["alert_id"])
            if old is None or (old.get("version") or 0) < (brief.get("version") or 0):
                held[brief["alert_id"]] = brief

    def level(self, scope: str) -> str:
        levels = [a["level"] for a in self.by_scope.get(scope, {}).values()]
        return max(levels, key=LEVELS.index) if levels else "none"

    def levels(self, with_ids: bool = False) -> Json:
        """Per scope: kind, level, open alert count (and, for merging, their ids)."""
        out: Json = {}
        for scope, kind in sorted(self.kinds.items()):
            held = self.by_scope.get(scope, {})
            out[scope] = {"kind": kind, "level": self.level(scope), "open_alerts": len(held)}
            if with_ids:
                out[scope]["alert_ids"] = sorted(held)
        return out

    def scope_alerts(self, scope: str) -> list[Json]:
        return _most_severe_first(self.by_scope.get(scope, {}).values())


def _most_severe_first(alerts: Iterable[Json]) -> list[Json]:
    return sorted(alerts, key=lambda a: (-LEVELS.index(a["level"]), a["kind"], a["alert_id"]))


def _max_level(levels: Iterable[str]) -> str:
    known = [lv for lv in levels if lv in LEVELS]
    return max(known, key=LEVELS.index) if known else "none"


def merge_maps(answers: list[Json]) -> Json:
    """One map from every worker's ``GET /map?ids=1``.

    Each worker holds the windows of its own partitions, and one signal sits in
    the windows of several scopes, so two workers may both count an alert under
    the same scope: open alerts are merged as a union of ids, levels by maximum,
    watermarks by the latest, partitions by union.

    >>> a = {"partitions": [0], "watermarks": {"t": "2026-01-01T00:00:00+00:00"},
    ...      "scopes": {"t": {"kind": "town", "level": "low", "open_alerts": 1,
    ...                       "alert_ids": ["x"]}}}
    >>> b = {"partitions": [1], "watermarks": {"t": "2026-01-01T00:05:00+00:00"},
    ...      "scopes": {"t": {"kind": "town", "level": "high", "open_alerts": 2,
    ...                       "alert_ids": ["x", "y"]}}}
    >>> m = merge_maps([a, b])
    >>> m["partitions"], m["scopes"]["t"]["level"], m["scopes"]["t"]["open_alerts"]
    ([0, 1], 'high', 2)
    >>> m["watermarks"]["t"]
    '2026-01-01T00:05:00+00:00'
    """
    partitions: set[int] = set()
    watermarks: dict[str, str] = {}
    kinds: dict[str, str] = {}
    levels: dict[str, list[str]] = {}
    ids: dict[str, set[str]] = {}
    for answer in answers:
        partitions.update(answer.get("partitions", []))
        for scope, wm in answer.get("watermarks", {}).items():
            if scope not in watermarks or datetime.fromisoformat(wm) > datetime.fromisoformat(
                watermarks[scope]
            ):
                watermarks[scope] = wm
        for scope, entry in answer.get("scopes", {}).items():
            if "alert_ids" not in entry:
                raise ValueError("merge needs each worker's alert ids: ask GET /map?ids=1")
            kinds.setdefault(scope, entry["kind"])
            levels.setdefault(scope, []).append(entry["level"])
            ids.setdefault(scope, set()).update(entry["alert_ids"])
    return {
        "partitions": sorted(partitions),
        "watermarks": dict(sorted(watermarks.items())),
        "scopes": {
            scope: {
                "kind": kinds[scope],
                "level": _max_level(levels[scope]),
                "open_alerts": len(ids[scope]),
            }
            for scope in sorted(kinds)
        },
    }


def merge_scope_alerts(scope: str, answers: list[Json]) -> Json:
    """One answer from every worker's ``GET /map/{scope}/alerts`` (404s left out).

    Alerts are merged by id, the latest version winning; the level is the most
    severe of them, ``none`` without any.
    """
    partitions: set[int] = set()
    kind = None
    alerts: dict[str, Json] = {}
    for answer in answers:
        partitions.update(answer.get("partitions", []))
        kind = kind or answer.get("kind")
        for alert in answer.get("alerts", []):
            old = alerts.get(alert["alert_id"])
            if old is None or (old.get("version") or 0) < (alert.get("version") or 0):
                alerts[alert["alert_id"]] = alert
    merged = _most_severe_first(alerts.values())
    return {
        "partitions": sorted(partitions),
        "scope": scope,
        "kind": kind,
        "level": _max_level(a["level"] for a in merged),
        "alerts": merged,
    }
