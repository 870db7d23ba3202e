"""Agent ``detect_records``: department events → risk signals (department event → **signal**).

Rate anomalies and data collisions are judged per place: the department
events topic is keyed by place id, and so is this agent's changelog-backed
state table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import DepartmentEvent
from schemas.registry import DEPARTMENT_EVENTS
from streams.hop import Hop, Result

if TYPE_CHECKING:
    from streams.app import Pipeline


def register(pipe: Pipeline) -> None:
    detection = pipe.detection
    state = pipe.table("place-detector-state")
    hop: Hop[DepartmentEvent] = Hop(pipe, "detect_records", DEPARTMENT_EVENTS)

    def core(event: DepartmentEvent) -> Result:
        old = state.get(event.place_id)
        new, signals = detection.on_department_event(event, old, pipe.clock())
        pipe.metrics.observe_signals(signals)

        def commit() -> None:
            if new != old:
                state[event.place_id] = new

        return Result(outputs=signals, commit=commit)

    async def handle(event: faust.EventT) -> None:
        await hop.handle(event, core)

    pipe.wiring.on("detect_records", [DEPARTMENT_EVENTS], handle)
