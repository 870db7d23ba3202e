"""A gateway's uploads: readings grouped into batch records, as a producer would send them.

Outside the flow: it feeds its first hop (**reading** → signal → ...) for the
tools that write inputs (``yujing simulate --batch``, ``yujing replay --batch``).
The tool is one gateway (as an IoT platform forwards a whole district's devices
over one connection): readings are buffered, split by the partition each sensor
falls in (so every batch holds one partition's sensors and is keyed by one of
them, see :mod:`schemas.batch`), and uploaded as one
:class:`~schemas.batch.ReadingBatch` when a buffer holds ``size`` readings or
``max_bytes`` of them, or when a reading comes ``window_s`` (event time) after the
buffer's first, as a gateway uploads on a cycle. Other events pass through.

>>> from datetime import UTC, datetime, timedelta
>>> from schemas import SensorReading
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> def r(i, s, m): return SensorReading(reading_id=f"r{i}", sensor_id=s, sensor_kind="k",
...     place_id="site.a", value=1.0, event_time=t + timedelta(minutes=m))
>>> g = Batcher(partitions=1, size=2, window_s=600, gateway_id="gw-1")
>>> [len(b.readings) for b in g.add(r(1, "s1", 0)) + g.add(r(2, "s2", 1))]
[2]
>>> g.add(r(3, "s1", 2)), [b.sensor_group for b in g.flush()]
([], ['s1'])
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas import Event, ReadingBatch, SensorReading
from schemas.batch import MAX_READINGS
from schemas.codec import encode
from streams.core.shared.ids import stable_id
from streams.runtime.partitioning import partition_of

#: the bytes of readings one upload carries at most: well within the worker's default
#: bound for a batch record (YUJING_MAX_BATCH_BYTES, 512 KiB)
MAX_UPLOAD_BYTES = 384 * 1024


@dataclass
class _Buffer:
    readings: list[SensorReading] = field(default_factory=list)
    size: int = 0


@dataclass
class Batcher:
    """Readings → batch records, per partition; see the module docstring."""

    partitions: int
    size: int = MAX_READINGS
    window_s: float = 60.0
    max_bytes: int = MAX_UPLOAD_BYTES
    gateway_id: str = "yujing-tools"
    _buffers: dict[int, _Buffer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_READINGS:
            raise ValueError(f"batch size must be within 1..{MAX_READINGS}, got {self.size}")
        if self.partitions < 1:
            raise ValueError(f"partitions must be >= 1, got {self.partitions}")

    def add(self, event: Event) -> list[Event]:
        """What is ready to send after ``event``: the event itself unless it is a reading,
        and any upload it completes."""
        if not isinstance(event, SensorReading):
            return [event]
        where = partition_of(event.sensor_id.encode(), self.partitions)
        nbytes = len(encode(event))
        out: list[Event] = []
        buf = self._buffers.get(where)
        if buf is not None and (
            (event.event_time - buf.readings[0].event_time).total_seconds() >= self.window_s
            or buf.size + nbytes > self.max_bytes
        ):
            out.append(self._upload(where))
            buf = None
        if buf is None:
            buf = self._buffers[where] = _Buffer()
        buf.readings.append(event)
        buf.size += nbytes
        if len(buf.readings) >= self.size:
            out.append(self._upload(where))
        return out

    def flush(self) -> list[ReadingBatch]:
        """Every buffer's upload, now (the end of a run)."""
        return [self._upload(where) for where in list(self._buffers)]

    def _upload(self, where: int) -> ReadingBatch:
        readings = self._buffers.pop(where).readings
        first, last = readings[0], readings[-1]
        gw = self.gateway_id
        return ReadingBatch(
            batch_id=stable_id("batch", gw, first.reading_id, last.reading_id, len(readings)),
            gateway_id=gw,
            sensor_group=first.sensor_id,
            readings=readings,
            event_time=max(r.event_time for r in readings),
        )


def batched(
    events: Iterable[Event], partitions: int, size: int, gateway_id: str = "yujing-tools"
) -> list[Event]:
    """``events`` with their readings uploaded in batches of up to ``size`` (the tools'
    ``--batch``), in the order they become ready, the rest as they are."""
    g = Batcher(partitions, size, gateway_id=gateway_id)
    out = [ready for e in events for ready in g.add(e)]
    return out + g.flush()


def batch_size(raw: str) -> int:
    """The tools' ``--batch N``: 0 (one record per reading) or a batch size within 1..500."""
    try:
        n = int(raw)
    except ValueError:
        n = -1
    if not 0 <= n <= MAX_READINGS:
        raise argparse.ArgumentTypeError(f"{raw!r}: 0 (no batches) or 1..{MAX_READINGS}")
    return n
