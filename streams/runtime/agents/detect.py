"""Agent ``detect``: readings → risk signals (reading → **signal**), and the sensors' re-check.

Per-sensor detector state (compact JSON) lives in a changelog-backed table
keyed by sensor id, the readings topic's key, so the state moves with its
partition and survives a restart. The same state carries the machine re-check
of auto-disposal (:mod:`streams.core.signals.recheck`): watch requests from
``track_orders``, keyed by sensor id too, attach orders to it, and each
reading's verdicts go back keyed by order id. Both topics are read by this one
agent (two agents on one topic can deadlock a rebalance; see :mod:`streams.runtime.wiring`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import DisposalWatch, SensorReading
from schemas.registry import DISPOSAL_WATCH, READINGS
from streams.runtime.hop import Hop, Result

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline


def register(pipe: Pipeline) -> None:
    detection = pipe.detection
    state = pipe.table("sensor-detector-state")
    hop: Hop[SensorReading] = Hop(pipe, "detect", READINGS)
    watch_hop: Hop[DisposalWatch] = Hop(pipe, "detect.watch", DISPOSAL_WATCH)

    def core(reading: SensorReading) -> Result:
        old = state.get(reading.sensor_id)
        seen = detection.observe_reading(reading, old, pipe.clock())
        pipe.metrics.observe_signals(seen.signals)

        def commit() -> None:
            if seen.state != old:
                state[reading.sensor_id] = seen.state

        return Result(outputs=[*seen.signals, *seen.health], commit=commit)

    def on_watch(req: DisposalWatch) -> Result:
        new, verdicts = detection.attach(req, state.get(req.sensor_id), pipe.clock())

        def commit() -> None:
            if new is not None:
                state[req.sensor_id] = new

        return Result(outputs=verdicts, commit=commit)

    watch_topic = pipe.settings.topic(DISPOSAL_WATCH.name)

    async def handle(event: faust.EventT) -> None:
        if event.message.topic == watch_topic:
            await watch_hop.handle(event, on_watch)
        else:
            await hop.handle(event, core)

    pipe.wiring.on("detect", [READINGS, DISPOSAL_WATCH], handle)
