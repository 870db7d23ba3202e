"""Watch sensors: the machine re-check of auto-disposal, on the sensor side.

(reading → … → **order** re-check.) Reads sensor readings and watch requests,
both keyed by sensor id, so the table of watches (keyed by sensor id) lives in
the readings' partition. When a watched sensor has had N healthy readings in a
row (or relapses after that), a :class:`SensorHealth` event keyed by the order
id goes back to the order side (``track_orders``).

It shares the readings with ``detect``, so :mod:`streams.wiring` runs both in
one Faust agent (two agents on one topic can deadlock a rebalance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import faust

from schemas import DisposalWatch, SensorReading
from schemas.registry import DISPOSAL_WATCH, READINGS
from streams.core import disposal
from streams.core.disposal import Watch
from streams.hop import Hop, Result

if TYPE_CHECKING:
    from streams.app import Pipeline


def register(pipe: Pipeline) -> None:
    table = pipe.table("disposal-watches")
    catalogue = pipe.catalogue
    watch_hop: Hop[DisposalWatch] = Hop(pipe, "watch_sensors.watch", DISPOSAL_WATCH)
    reading_hop: Hop[SensorReading] = Hop(pipe, "watch_sensors.reading", READINGS, owns_input=False)

    def load(sensor_id: str) -> dict[str, Watch]:
        raw = table.get(sensor_id) or {}
        return {oid: Watch.model_validate(w) for oid, w in raw.items()}

    def dump(watches: dict[str, Watch]) -> dict[str, Any]:
        return {oid: w.model_dump(mode="json") for oid, w in watches.items()}

    def on_watch(req: DisposalWatch) -> Result:
        old = load(req.sensor_id)
        new = disposal.start(old, req)
        if new is old:
            return Result()

        def commit() -> None:
            table[req.sensor_id] = dump(new)

        return Result(commit=commit)

    def on_reading(reading: SensorReading) -> Result:
        if table.get(reading.sensor_id) is None:
            return Result()  # nobody is waiting for this sensor: the common case, cheap
        old = load(reading.sensor_id)
        healthy = {}
        for rp_id in {w.risk_point for w in old.values()}:
            try:
                healthy[rp_id] = disposal.is_healthy(catalogue.risk_point(rp_id), reading.value)
            except KeyError:
                healthy[rp_id] = False  # risk point gone from the catalogue: never recovered
        new, events = disposal.on_reading(old, reading, healthy, pipe.clock())

        def commit() -> None:
            if new:
                table[reading.sensor_id] = dump(new)
            else:
                del table[reading.sensor_id]

        return Result(outputs=events, commit=commit)

    watch_topic = pipe.settings.topic(DISPOSAL_WATCH.name)

    async def handle(event: faust.EventT) -> None:
        """One event of the sensor-keyed stream: a watch request, or a reading."""
        if event.message.topic == watch_topic:
            await watch_hop.handle(event, on_watch)
        else:
            await reading_hop.handle(event, on_reading)

    # readings are also read by ``detect``: the wiring runs both in one agent
    pipe.wiring.on("watch_sensors", [READINGS, DISPOSAL_WATCH], handle)
