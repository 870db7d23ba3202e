"""The dead-man's switches of the ``detect`` agent's partitions (reading → **signal**).

Where this sits: beside :mod:`streams.runtime.live`, under the ``detect`` agent.
Each partition of the readings topic (and its co-partitioned gateway batches)
gets one :class:`~streams.core.signals.silence.SilenceWatch`, judged on that
partition's event time. It is built the first time the partition's readings
come after an assignment, from the ``seen`` records the sensors' stored states
keep (so a sensor silent across a restart is still caught, and one signalled
before it is not signalled again), and forgotten when partitions move. A
sensor whose silence is signalled has its record marked in its state, written
with the next checkpoint like any change the reading made.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from schemas import RiskSignal, SensorReading
from streams.core.shared.catalogue import SilencePoint
from streams.core.signals.live import SEEN, Live
from streams.core.signals.silence import READING, SIGNALLED, SilenceWatch
from streams.runtime.live import LiveTable


class Silences:
    """Per-partition dead-man's switches over the sensors' live states."""

    def __init__(self, points: dict[str, SilencePoint], live: LiveTable[Live]) -> None:
        self._points = points
        self._live = live
        self._watches: dict[int, SilenceWatch] = {}
        self.rebuilt = 0  # sensors taken from stored states at rebuilds (for tests, logs)

    def observe(
        self, partition: int, readings: Iterable[SensorReading], now: datetime
    ) -> tuple[list[RiskSignal], list[str]]:
        """After ``readings`` of ``partition`` were observed: the silence signals now due
        there, and the sensors whose states changed by it (their silence marked)."""
        if not self._points:
            return [], []
        watch = self._watches.get(partition)
        if watch is None:
            watch = self._watches[partition] = self._rebuild(partition)
        live = self._live
        for r in readings:
            record = live.get(r.sensor_id).seen if r.sensor_kind in self._points else None
            if record is not None:
                watch.seen(r.sensor_id, record)
            else:
                watch.tick(r.event_time.timestamp())
        due = watch.due(now)
        for sensor_id, sig in due:  # a record rebuilt from the table is not the live one
            mine = live.get(sensor_id).seen
            if mine is not None and mine[READING] == sig.source_event_ids[0]:
                mine[SIGNALLED] = 1
        return [sig for _, sig in due], [sensor_id for sensor_id, _ in due]

    def forget(self) -> None:
        """Partitions are moving: every watch is rebuilt on its partition's next reading."""
        self._watches.clear()

    def _rebuild(self, partition: int) -> SilenceWatch:
        watch = SilenceWatch(self._points)
        for key in self._live.keys(partition):
            stored = self._live.stored(key)
            record: Any = json.loads(stored).get(SEEN) if stored else None
            if record is not None:
                watch.seen(key, record)
                self.rebuilt += 1
        return watch
