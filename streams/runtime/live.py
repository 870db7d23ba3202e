"""Live state: per-key objects kept in memory between checkpoints, written once per checkpoint.

Where this sits: under the ``detect`` agent (reading → **signal**), between its
handlers and the changelog-backed table of sensor state. Rebuilding a key's
detectors from JSON on every reading and writing the table (one changelog record)
per reading cost more than the detection itself. Here a key's state stays a live
object (:class:`~streams.core.signals.detect.Live`) from the first event that
needs it; the handlers mark what they changed, and :meth:`LiveTable.flush` writes
each changed key to the table once, at the checkpoint before the consumer commits
offsets and when partitions are revoked (:mod:`streams.runtime.checkpoint`: after
the outputs in flight are delivered, under the gate no event holds half done).
So the table, and with it a restart or the next owner of a partition, never holds
less than what the committed offsets say was processed, nor state whose outputs
could still be lost. At most ``max_live`` keys stay in memory; beyond that the
least recently used unchanged ones are dropped (they reload from the table when
next needed).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from streams.runtime.partitioning import partition_of

log = logging.getLogger(__name__)

T = TypeVar("T")


class LiveTable(Generic[T]):
    """Live objects in front of a staged table whose keys are the source topics' keys."""

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

    @property
    def partitions(self) -> int:
        return self._partitions

    def each(self) -> Iterator[tuple[str, T | None, str | None]]:
        """Every key this worker holds, with its live object (``None``: not loaded) or
        else its stored value: one pass, nothing loaded."""
        live, table = self._live, self._table
        for key in table:
            if key not in live:
                yield key, None, table.get(key)
        yield from ((key, obj, None) for key, obj in list(live.items()))

    def replace(self, key: str, obj: T) -> None:
        """Put ``obj`` in place of ``key``'s live object, to be written at the next flush."""
        self._live[key] = obj
        self._dirty.add(key)

    def mark(self, keys: Any) -> Callable[[], None]:
        """A commit (for a handler's :class:`~streams.runtime.agent.Result`) that marks
        ``keys`` changed, to be written at the next checkpoint."""

        def commit() -> None:
            self._dirty.update(keys)

        return commit

    def flush(self) -> int:
        """Stage every changed key's state in the table once; how many.

        The changelog record goes to the key's own partition (Kafka's default
        partitioner on the key, as the source topics are keyed), as Faust's table
        would send it from one of the key's events."""
        if not self._dirty:
            return 0
        table, n = self._table, 0
        for key in self._dirty:
            obj = self._live.get(key)
            if obj is None:
                continue
            table.put(key, self._dump(obj), partition_of(key.encode(), self._partitions))
            n += 1
        self._dirty.clear()
        self.written += n
        return n

    def forget(self) -> None:
        """Partitions are moving (after a flush): forget every live object."""
        self._live.clear()
        self._dirty.clear()

    def _evict(self) -> None:
        for key in list(self._live):
            if len(self._live) <= self._max_live * 0.9:
                break
            if key not in self._dirty:
                del self._live[key]
