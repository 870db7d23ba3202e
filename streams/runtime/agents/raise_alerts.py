"""Agent ``raise_alerts``: risk signals → single-risk alerts (signal → **alert**).

The single-risk rule (:mod:`streams.core.alerts.single`) turns each signal into
its alert, with a summary a person can read and the indicators behind it. A
changelog-backed table keyed by place (the signals topic's key) remembers the
alert each of the place's recent signals raised: a signal that comes again (as
after a ``kill -9`` of ``detect``) raises nothing new, and a signal id that comes
again with other content is dead-lettered as ``conflict``, so an alert id never
carries two contents.
"""

from __future__ import annotations

from schemas import DeadLetterReason, RiskSignal
from schemas.registry import SIGNALS
from streams.core.alerts.single import first_content
from streams.runtime.agent import Agent, Handlers, Result, Source, store
from streams.runtime.context import Context


def build(ctx: Context) -> Handlers:
    rule = ctx.config.single_risk_rule
    raised = ctx.table("raised-signals")

    def on_signal(signal: RiskSignal, _: Source) -> Result:
        alert = rule.on_signal(signal)
        memory, verdict = first_content(raised.get(signal.place_id), alert)
        if verdict == "repeat":
            ctx.metrics.repeats.labels("raise_alerts").inc()
            return Result()
        if verdict == "conflict":
            why = f"signal {signal.signal_id} raised alert {alert.alert_id} with other content"
            return Result(dead_letter=(DeadLetterReason.CONFLICT, why))
        return Result(outputs=[alert], commit=store(raised, signal.place_id, memory))

    return {SIGNALS: on_signal}


AGENT = Agent("raise_alerts", build)
