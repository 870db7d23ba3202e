"""Agent ``raise_alerts``: risk signals → single-risk alerts (signal → **alert**).

The single-risk rule (:mod:`streams.core.alerts.single`) turns each signal into
its alert, with a summary a person can read and the indicators behind it.
"""

from __future__ import annotations

from schemas import RiskSignal
from schemas.registry import SIGNALS
from streams.runtime.agent import Agent, Handlers, Result, Source
from streams.runtime.context import Context


def build(ctx: Context) -> Handlers:
    rule = ctx.config.single_risk_rule

    def on_signal(signal: RiskSignal, _: Source) -> Result:
        return Result(outputs=[rule.on_signal(signal)])

    return {SIGNALS: on_signal}


AGENT = Agent("raise_alerts", build)
