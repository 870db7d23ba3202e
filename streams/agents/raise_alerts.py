"""Agent ``raise_alerts``: risk signals → single-risk alerts (signal → **alert**)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import RiskSignal
from schemas.registry import SIGNALS
from streams.hop import Hop, Result

if TYPE_CHECKING:
    from streams.app import Pipeline


def register(pipe: Pipeline) -> None:
    rule = pipe.single_risk_rule
    hop: Hop[RiskSignal] = Hop(pipe, "raise_alerts", SIGNALS)

    def core(signal: RiskSignal) -> Result:
        return Result(outputs=[rule.on_signal(signal)])

    @pipe.app.agent(pipe.topic(SIGNALS), name="raise_alerts", concurrency=1)
    async def raise_alerts(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await hop.handle(event, core)
