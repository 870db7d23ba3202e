"""Agent ``raise_alerts``: risk signals → single-risk alerts (signal → **alert**)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import RiskSignal
from schemas.registry import SIGNALS
from streams.runtime.hop import Hop, Result

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline


def register(pipe: Pipeline) -> None:
    rule = pipe.single_risk_rule
    hop: Hop[RiskSignal] = Hop(pipe, "raise_alerts", SIGNALS)

    def core(signal: RiskSignal) -> Result:
        return Result(outputs=[rule.on_signal(signal)])

    async def handle(event: faust.EventT) -> None:
        await hop.handle(event, core)

    pipe.wiring.on("raise_alerts", [SIGNALS], handle)
