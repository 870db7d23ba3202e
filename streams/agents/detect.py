"""Agent ``detect``: readings → risk signals (reading → **signal**).

Per-sensor detector state (compact JSON) lives in a changelog-backed table
keyed by sensor id, the readings topic's key, so the state moves with its
partition and survives a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import SensorReading
from schemas.registry import READINGS
from streams.hop import Hop, Result

if TYPE_CHECKING:
    from streams.app import Pipeline


def register(pipe: Pipeline) -> None:
    detection = pipe.detection
    state = pipe.table("sensor-detector-state")
    hop: Hop[SensorReading] = Hop(pipe, "detect", READINGS)

    def core(reading: SensorReading) -> Result:
        old = state.get(reading.sensor_id)
        new, signals = detection.on_reading(reading, old, pipe.clock())
        pipe.metrics.observe_signals(signals)

        def commit() -> None:
            if new != old:
                state[reading.sensor_id] = new

        return Result(outputs=signals, commit=commit)

    async def handle(event: faust.EventT) -> None:
        await hop.handle(event, core)

    pipe.wiring.on("detect", [READINGS], handle)
