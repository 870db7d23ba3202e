"""Agent ``detect``: readings → risk signals (reading → **signal**), and the sensor-side
auto-disposal re-check (:mod:`streams.agents.watch_sensors`) on the same stream.

Per-sensor detector state (compact JSON) lives in a changelog-backed table
keyed by sensor id, the readings topic's key, so the state moves with its
partition and survives a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import SensorReading
from schemas.registry import DISPOSAL_WATCH, READINGS
from streams.agents import watch_sensors
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

    watch = watch_sensors.register(pipe)
    # One agent per input topic: readings and the watch requests keyed like them.
    channel = pipe.app.topic(
        pipe.settings.topic(READINGS.name),
        pipe.settings.topic(DISPOSAL_WATCH.name),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=pipe.settings.partitions,
    )
    readings_topic = pipe.settings.topic(READINGS.name)

    @pipe.app.agent(channel, name="detect", concurrency=1)
    async def detect(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            if event.message.topic == readings_topic:
                await hop.handle(event, core)
            await watch(event)
