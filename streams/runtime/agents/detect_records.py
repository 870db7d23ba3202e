"""Agent ``detect_records``: department events → risk signals (department event → **signal**).

Rate anomalies and data collisions are judged per place: the department
events topic is keyed by place id, and so is this agent's changelog-backed
state table. The same state carries the places' machine re-check of
auto-disposal (:mod:`streams.core.signals.recheck`): place watch requests from
``track_orders``, keyed by place id too, attach orders to it, and each
record's verdicts go back keyed by order id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import DepartmentEvent, PlaceWatch
from schemas.registry import DEPARTMENT_EVENTS, PLACE_WATCH
from streams.runtime.hop import Hop, Result

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline


def register(pipe: Pipeline) -> None:
    detection = pipe.detection
    state = pipe.table("place-detector-state")
    hop: Hop[DepartmentEvent] = Hop(pipe, "detect_records", DEPARTMENT_EVENTS)
    watch_hop: Hop[PlaceWatch] = Hop(pipe, "detect_records.watch", PLACE_WATCH)

    def core(event: DepartmentEvent) -> Result:
        old = state.get(event.place_id)
        seen = detection.observe_record(event, old, pipe.clock())
        pipe.metrics.observe_signals(seen.signals)

        def commit() -> None:
            if seen.state != old:
                state[event.place_id] = seen.state

        return Result(outputs=[*seen.signals, *seen.health], commit=commit)

    def on_watch(req: PlaceWatch) -> Result:
        new, verdicts = detection.attach(req, state.get(req.place_id), pipe.clock())

        def commit() -> None:
            if new is not None:
                state[req.place_id] = new

        return Result(outputs=verdicts, commit=commit)

    watch_topic = pipe.settings.topic(PLACE_WATCH.name)

    async def handle(event: faust.EventT) -> None:
        if event.message.topic == watch_topic:
            await watch_hop.handle(event, on_watch)
        else:
            await hop.handle(event, core)

    pipe.wiring.on("detect_records", [DEPARTMENT_EVENTS, PLACE_WATCH], handle)
