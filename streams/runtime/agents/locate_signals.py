"""Agent ``locate_signals``: signals → scoped signals (signal → **scoped signal**).

Reads the signals topic (keyed by place, so one place's signals stay in order)
beside ``raise_alerts``. Judges lateness per place against the place's
event-time watermark (a changelog-backed table keyed by place id): a signal
more than the allowed lateness behind the newest one of its place goes to the
dead-letter topic with reason ``late``. Otherwise it looks the place up in the
district model and publishes one copy per scope it rolls up into — its town,
its industry (sites), its district; a place the model does not know gets
``place:<id>`` (compound rules only) — keyed so each scope's signals meet in
one partition of ``yujing.scoped-signals.v1``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import faust

from schemas import DeadLetterReason, RiskSignal, ScopedSignal
from schemas.registry import SIGNALS
from streams.core.alerts.windows import epoch, judge_place, to_dt
from streams.core.shared.ids import stable_id
from streams.core.shared.regions import RegionIndex
from streams.runtime.hop import Hop, Result

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline


def scope_keys(index: RegionIndex, sig: RiskSignal) -> list[tuple[str, dict[str, str | None]]]:
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


def register(pipe: Pipeline) -> None:
    index = pipe.regions
    lateness = pipe.catalogue.windows.allowed_lateness_s
    clocks = pipe.table("place-clocks")
    hop: Hop[RiskSignal] = Hop(pipe, "locate_signals", SIGNALS, owns_input=False)

    def core(sig: RiskSignal, offset: int) -> Result:
        old = clocks.get(sig.place_id)
        new, late = judge_place(old, epoch(sig.event_time), offset, lateness)

        def commit() -> None:
            if new != old:
                clocks[sig.place_id] = new

        if late:
            detail = (
                f"signal {sig.signal_id} at {sig.event_time.isoformat()} is more than "
                f"{lateness:g}s behind the newest signal of {sig.place_id} "
                f"({to_dt(new['wm']).isoformat()}): too late for its windows"
            )
            return Result(commit=commit, dead_letter=(DeadLetterReason.LATE, detail))
        outputs = [
            ScopedSignal(
                scoped_id=stable_id("scoped", sig.signal_id, key),
                scope_key=key,
                signal=sig,
                event_time=sig.event_time,
                **where,  # type: ignore[arg-type]
            )
            for key, where in scope_keys(index, sig)
        ]
        return Result(outputs=outputs, commit=commit)

    async def handle(event: faust.EventT) -> None:
        await hop.handle(event, functools.partial(core, offset=event.message.offset))

    pipe.wiring.on("locate_signals", [SIGNALS], handle)
