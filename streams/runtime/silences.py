"""The dead-man's switches of the ``detect`` agent's partitions (reading → **signal**).

Where this sits: beside :mod:`streams.runtime.live`, under the ``detect`` agent.
Each partition of the readings topic (and its co-partitioned gateway batches)
gets one :class:`~streams.core.signals.silence.SilenceWatch`, judged on that
partition's event time. The watches are built on the first reading after an
assignment, in one pass over the ``seen`` records the sensors' held states keep
(so a sensor silent across a restart is still caught, and one signalled before
it is not signalled again), and forgotten when partitions move. Only the
readings read move a partition's clock; a stored record (a rebuild, or a replay
whose sensor's state was written past the reading) only says where its sensor's
silence runs from. A
sensor whose silence is signalled has its record marked in its state, written
with the next checkpoint like any change the reading made.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from schemas import RiskSignal, SensorReading
from streams.core.shared.catalogue import SilencePoint
from streams.core.signals.live import SEEN, Live
from streams.core.signals.silence import READING, SIGNALLED, SilenceWatch
from streams.runtime.live import LiveTable
from streams.runtime.partitioning import partition_of

#: Held states taken into the watches per input while they are rebuilt.
REBUILD_STEP = 5_000


class Silences:
    """Per-partition dead-man's switches over the sensors' live states."""

    def __init__(self, points: dict[str, SilencePoint], live: LiveTable[Live]) -> None:
        self._points = points
        self._live = live
        self._watches: dict[int, SilenceWatch] = {}
        #: the held states still to be taken into the watches (after an assignment)
        self._rebuilding: Iterator[tuple[str, Live | None, str | None]] | None = live.each()
        self.rebuilt = 0  # sensors taken from stored states at rebuilds (for tests, logs)
        self.step = REBUILD_STEP  # held states taken per input while rebuilding

    def observe(
        self, partition: int, readings: Iterable[SensorReading], now: datetime
    ) -> tuple[list[RiskSignal], list[str]]:
        """After ``readings`` of ``partition`` were observed: the silence signals now due
        there, and the sensors whose states changed by it (their silence marked)."""
        if not self._points:
            return [], []
        if self._rebuilding is not None:
            self._rebuild(self.step)
        watch = self._watch(partition)
        live = self._live
        for r in readings:  # the clock moves by the readings read, never by a stored record
            watch.tick(r.event_time.timestamp())
            record = live.get(r.sensor_id).seen if r.sensor_kind in self._points else None
            if record is not None:
                watch.know(r.sensor_id, record)
        if self._rebuilding is not None:
            return [], []  # judge once every held sensor is known again
        due = watch.due(now)
        for sensor_id, sig in due:  # a record rebuilt from the table is not the live one
            mine = live.get(sensor_id).seen
            if mine is not None and mine[READING] == sig.source_event_ids[0]:
                mine[SIGNALLED] = 1
        return [sig for _, sig in due], [sensor_id for sensor_id, _ in due]

    def forget(self) -> None:
        """Partitions are moving: the watches are rebuilt, from the next reading on."""
        self._watches.clear()
        self._rebuilding = self._live.each()

    def _watch(self, partition: int) -> SilenceWatch:
        watch = self._watches.get(partition)
        if watch is None:
            watch = self._watches[partition] = SilenceWatch(self._points)
        return watch

    def _rebuild(self, step: int) -> None:
        """Take up to ``step`` more held states into their partitions' watches (a worker of
        a million sensors reads them all in seconds, so a few thousand at each input keep
        any one input from waiting long)."""
        assert self._rebuilding is not None
        n, taken = self._live.partitions, 0
        for key, obj, stored in itertools.islice(self._rebuilding, step):
            taken += 1
            record = obj.seen if obj is not None else seen_record(stored)
            if record is not None:
                self._watch(partition_of(key.encode(), n)).know(key, record)
                self.rebuilt += 1
        if taken < step:
            self._rebuilding = None  # every held state is in


def seen_record(stored: str | None) -> list[Any] | None:
    """The ``seen`` record of a stored sensor state, without parsing the rest (it is the
    state's last member, :meth:`~streams.core.signals.live.Live.stored`).

    >>> seen_record('{"rp":{"d":{}},"~seen":["gas_lel","p1",60.0,"r-1",0]}')
    ['gas_lel', 'p1', 60.0, 'r-1', 0]
    >>> seen_record('{"rp":{"d":{}}}') is None
    True
    """
    at = stored.rfind(_MARK) if stored else -1
    if at < 0 or stored is None:
        return None
    try:
        record = json.loads(stored[at + len(_MARK) : -1])
    except ValueError:  # not the last member after all: the whole state, then
        record = json.loads(stored).get(SEEN)
    return record if isinstance(record, list) else None


_MARK = f'"{SEEN}":'
