"""Agent ``locate_signals``: signals → scoped signals (signal → **scoped signal**).

Reads the signals topic (keyed by place, so one place's signals stay in order)
beside ``raise_alerts``, judges each against its place's event-time clock (a
changelog-backed table keyed by place id) and copies it to every scope its place
rolls up into (:mod:`streams.core.alerts.locate`); a late one is dead-lettered,
one the place has judged already is taken once (``yujing_inputs_repeated_total``).
A dead-man's switch's signal (a sensor gone silent) is not copied: it raises its
single-risk alert and counts towards no compound or systemic rule.
"""

from __future__ import annotations

from schemas import DeadLetterReason, RiskSignal
from schemas.registry import SIGNALS
from streams.core.alerts.locate import locate
from streams.runtime.agent import Agent, Handlers, Result, Source, store
from streams.runtime.context import Context


def build(ctx: Context) -> Handlers:
    index = ctx.config.regions
    lateness = ctx.config.catalogue.windows.allowed_lateness_s
    clocks = ctx.table("place-clocks")
    silences = {sp.id for sp in ctx.config.catalogue.silences}

    def on_signal(sig: RiskSignal, source: Source) -> Result:
        if sig.risk_point in silences:
            return Result()  # a silent sensor is no risk to compound: its single alert only
        old = clocks.get(sig.place_id)
        found = locate(sig, old, source.offset, lateness, index)
        if found.repeat:  # published again (a restart): taken once
            ctx.metrics.repeats.labels("locate_signals").inc()
        commit = store(clocks, sig.place_id, found.clock, old)
        dead = None if found.late is None else (DeadLetterReason.LATE, found.late)
        return Result(outputs=found.scoped, commit=commit, dead_letter=dead)

    return {SIGNALS: on_signal}


AGENT = Agent("locate_signals", build)
