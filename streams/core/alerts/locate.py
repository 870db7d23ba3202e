"""Locating signals: which scopes a signal rolls up into, and whether it is too late for them.

(signal → **scoped signal** → alert.) A signal is judged against its place's
event-time clock: more than the allowed lateness behind the newest signal of the
place, it is too late for its windows and goes to the dead-letter topic. A
signal the place has judged already (its clock remembers its latest ids: a worker
restarted after ``kill -9`` publishes its last few seconds' signals again, with
the same ids, and by then they are behind the place's clock) is a repeat: taken
once, neither copied nor dead-lettered again. Else it
is copied once per scope its place rolls up into in the district model — its
town, its district and, for a site, its industry — keyed so that each scope's
signals meet in one partition; a place the model does not know gets
``place:<id>`` (compound rules only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas import RiskSignal, ScopedSignal
from streams.core.alerts.windows import epoch, judge_place, to_dt
from streams.core.shared.ids import stable_id
from streams.core.shared.regions import RegionIndex

#: How many of a place's latest signal ids its clock remembers (repeats are taken once).
KEEP_SIGNAL_IDS = 16


@dataclass(frozen=True)
class Located:
    """The place's new clock, and the scoped copies — or why the signal is late, or that
    it is a repeat (nothing to do)."""

    clock: dict[str, Any]
    scoped: list[ScopedSignal]
    late: str | None = None
    repeat: bool = False


def scope_keys(index: RegionIndex, sig: RiskSignal) -> list[tuple[str, dict[str, str | None]]]:
    """Each scope key of ``sig``'s place, with where the place sits in the hierarchy."""
    loc = index.locate(sig.place_id)
    if loc is None:
        return [(f"place:{sig.place_id}", {})]
    where: dict[str, str | None] = {
        "grid_cell": loc.grid_cell,
        "community": loc.community,
        "town": loc.town,
        "district": loc.district,
        "site": loc.site,
        "industry": loc.industry,
    }
    keys = [f"town:{loc.town}", f"district:{loc.district}"]
    if loc.industry:
        keys.append(f"industry:{loc.industry}")
    return [(k, where) for k in keys]


def locate(
    sig: RiskSignal,
    clock: dict[str, Any] | None,
    offset: int,
    lateness_s: float,
    index: RegionIndex,
) -> Located:
    """Judge ``sig`` (read at ``offset`` of its place's partition) against its place's
    clock (``None``: the place's first signal); a signal among the place's latest ids
    is a repeat and changes nothing."""
    seen: list[str] = (clock or {}).get("ids", [])
    if sig.signal_id in seen:
        return Located(clock or {}, [], repeat=True)
    new, late = judge_place(clock, epoch(sig.event_time), offset, lateness_s)
    new["ids"] = [*seen, sig.signal_id][-KEEP_SIGNAL_IDS:]
    if late:
        return Located(
            new,
            [],
            f"signal {sig.signal_id} at {sig.event_time.isoformat()} is more than "
            f"{lateness_s:g}s behind the newest signal of {sig.place_id} "
            f"({to_dt(new['wm']).isoformat()}): too late for its windows",
        )
    scoped = [
        ScopedSignal(
            scoped_id=stable_id("scoped", sig.signal_id, key),
            scope_key=key,
            signal=sig,
            event_time=sig.event_time,
            **where,  # type: ignore[arg-type]
        )
        for key, where in scope_keys(index, sig)
    ]
    return Located(new, scoped)
