"""Matching alerts to the ground truth: where, what, when, and which group an alert detects.

(alert → **report**.) The predicates :func:`streams.tools.report.groundtruth.assess`
combines (the rules are stated in its module docstring), on one alert's last
version and one injected incident or group. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from schemas import Alert, ScopeKind
from streams.tools.report.facts import AlertFacts
from streams.tools.report.truth import Entry


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


def holds_member(alert: Alert, m: Entry) -> bool:
    """Its sensor is a source key, or a signal at its place of its risk point or module."""
    if m.sensor_id and m.sensor_id in alert.source_keys:
        return True
    contributions = alert.portrait.contributions if alert.portrait else []
    return any(
        c.place_id == m.place_id and (c.risk_point == m.risk_point or c.module == m.module)
        for c in contributions
        if m.place_id
    )


def alert_kind(a: AlertFacts) -> str:
    """single, compound, or a systemic alert's rule kind (trend, regional, ...)."""
    return a.systemic_kind or a.last.kind.value


def detects(a: AlertFacts, g: Entry, members: Sequence[Entry]) -> bool:
    """The alert detects group ``g`` (see the module docstring; *when* is the caller's)."""
    if alert_kind(a) != g.kind:
        return False
    last = a.last
    if g.kind == "compound" and last.scope != g.place_id:
        return False
    if g.kind == "regional" and last.scope_kind is ScopeKind.TOWN and last.scope != g.town:
        return False
    if g.kind == "industry" and last.scope != g.industry:
        return False
    return any(holds_member(last, m) for m in members)


def caused(alert: Alert, members: Sequence[Entry], delay: timedelta) -> bool:
    """Most of the alert's evidence (its contributing signals) is members of injected
    groups (a signal at a member's place, of its risk point or module, between its start
    and its end + ``delay``): a pattern the injections made, whatever its kind (a storm
    raises its modules' trends too), not a chance one."""
    at: dict[str | None, list[Entry]] = {}
    for m in members:
        at.setdefault(m.place_id, []).append(m)
    contributions = alert.portrait.contributions if alert.portrait else []
    hits = sum(
        any(
            c.risk_point == m.risk_point or c.module == m.module
            for m in at.get(c.place_id, ())
            if m.start <= c.event_time <= m.end + delay
        )
        for c in contributions
    )
    return 2 * hits > len(contributions) > 0


__all__ = ["alert_kind", "caused", "detects", "holds_member", "span", "what", "when", "where"]
