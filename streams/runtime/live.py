"""Live state: per-key objects kept in memory between offset commits, written once per commit.

Where this sits: under the ``detect`` agent (reading → **signal**), between its
handlers and the changelog-backed table of sensor state. Rebuilding a key's
detectors from JSON on every reading and writing the table (one changelog record)
per reading cost more than the detection itself. Here a key's state stays a live
object (:class:`~streams.core.signals.detect.Live`) from the first event that
needs it; the handlers mark what they changed once the event's outputs are
delivered, and :meth:`LiveTable.flush` writes each changed key to the table once,
just before the consumer commits offsets (Faust flushes the producer, changelog
included, before it commits), and when partitions are revoked. So the table, and
with it a restart or the next owner of a partition, never holds less than what
the committed offsets say was processed.

An event's handler runs under :attr:`LiveTable.lock` from its first step until
its outputs are delivered and its state marked (:class:`~streams.runtime.hop.Hop`
holds it), and a flush takes the same lock: a flush never writes the half of an
event whose outputs are still in flight. At most ``max_live`` keys stay in memory;
beyond that the least recently used unchanged ones are dropped (they reload from
the table when next needed).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from streams.runtime.partitioning import partition_of

log = logging.getLogger(__name__)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class LiveTable(Generic[T]):
    """Live objects in front of a Faust table whose keys are the source topics' keys."""

    def __init__(
        self,
        table: Any,
        partitions: int,
        load: Callable[[str, str | None], T],
        dump: Callable[[T], str],
        max_live: int = 200_000,
    ) -> None:
        """``load(key, stored)`` makes the live object from the table's value (or ``None``);
        ``dump(obj)`` gives the value to store."""
        self._table = table
        self._partitions = partitions
        self._load = load
        self._dump = dump
        self._max_live = max_live
        self._live: OrderedDict[str, T] = OrderedDict()
        self._dirty: set[str] = set()
        self.lock = asyncio.Lock()
        self.written = 0  # keys written to the table so far (a metric's source)

    def get(self, key: str) -> T:
        """The live object of ``key``, loaded from the table the first time."""
        obj = self._live.get(key)
        if obj is None:
            obj = self._live[key] = self._load(key, self._table.get(key))
            if len(self._live) > self._max_live:
                self._evict()
        else:
            self._live.move_to_end(key)
        return obj

    def stored(self, key: str) -> str | None:
        """What ``key`` would store now (``None``: nothing live and nothing stored)."""
        obj = self._live.get(key)
        return self._dump(obj) if obj is not None else self._table.get(key)

    def replace(self, key: str, obj: T) -> None:
        """Put ``obj`` in place of ``key``'s live object, to be written at the next flush."""
        self._live[key] = obj
        self._dirty.add(key)

    def mark(self, keys: Any) -> Callable[[], None]:
        """A commit (for a handler's :class:`~streams.runtime.agent.Result`) that marks
        ``keys`` changed once the event's outputs are delivered."""

        def commit() -> None:
            self._dirty.update(keys)

        return commit

    def guarded(self, handler: F) -> F:
        """``handler``, to be run under :attr:`lock` by its hop (see the module docstring)."""
        handler.guard = self.lock  # type: ignore[attr-defined]
        return handler

    def flush(self) -> int:
        """Write every changed key to the table (and its changelog) once; how many.

        Call under :attr:`lock`. The changelog record goes to the key's own partition
        (Kafka's default partitioner on the key, as the source topics are keyed), as
        Faust's table would send it from one of the key's events."""
        if not self._dirty:
            return 0
        table, n = self._table, 0
        for key in self._dirty:
            obj = self._live.get(key)
            if obj is None:
                continue
            value = self._dump(obj)
            if table.data.get(key) == value:
                continue
            table.data[key] = value
            table.send_changelog(partition_of(key.encode(), self._partitions), key, value)
            n += 1
        self._dirty.clear()
        self.written += n
        return n

    async def flush_locked(self) -> int:
        async with self.lock:
            return self.flush()

    async def revoke(self) -> None:
        """Partitions are moving: write what changed, then forget every live object (the
        table is restored for whatever this worker is assigned next)."""
        async with self.lock:
            self.flush()
            self._live.clear()

    def _evict(self) -> None:
        for key in list(self._live):
            if len(self._live) <= self._max_live * 0.9:
                break
            if key not in self._dirty:
                del self._live[key]
