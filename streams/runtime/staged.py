"""Staged tables: an agent's state writes held in memory until the next checkpoint.

Where this sits: under every agent that keeps state (reading → signal → alert →
order → notification), between its handlers and the changelog-backed Faust table.
An event's outputs are no longer awaited one by one (:mod:`streams.runtime.checkpoint`),
so its state must not reach the changelog before they reach the broker: a restart
would restore state that says "done" for an event whose outputs were lost. A
:class:`StagedTable` reads like the table (a mutable mapping) but keeps every write
here, with the partition of the event that made it; :meth:`StagedTable.flush` writes
them to the table and its changelog at the checkpoint, once the outputs are
delivered, just before the offsets are committed. Every changelog write (staged or
written through) leaves its delivery future here, and the checkpoint awaits them
(:meth:`StagedTable.delivered`) before the offsets go: Faust hands a changelog
write to the producer from its own buffer task, and neither its flush nor the
producer's covers a write that task has taken but not yet handed over.

>>> table = StagedTable(Plain(), partition=lambda key: 0)
>>> table["order-1"] = {"status": "open"}
>>> table["order-1"], "order-1" in table.table.data
({'status': 'open'}, False)
>>> table.flush(), table.table.data["order-1"]
(1, {'status': 'open'})
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Protocol

_DELETED = object()


class Store(Protocol):
    """State held between checkpoints: written at each one, dropped when partitions move."""

    def flush(self) -> int: ...

    def forget(self) -> None: ...


class StagedTable(MutableMapping[Any, Any]):
    """A Faust table (or any table with ``data`` and ``send_changelog``) behind a write stage."""

    def __init__(
        self,
        table: Any,
        partition: Callable[[Any], int | None] | None = None,
        write_through: bool = False,
    ) -> None:
        """``partition(key)`` is the changelog partition of a write made now (default: the
        current event's, as Faust's own table decides). ``write_through``: no stage, each
        write goes to the table and its changelog at once (for agents that await each
        event's outputs before its state moves)."""
        self.table = table
        self._partition = partition or table.partition_for_key
        self.write_through = write_through
        #: taken at a checkpoint, written once its outputs are delivered (reads see it)
        self._writing: dict[Any, tuple[Any, int | None]] = {}
        self._staged: dict[Any, tuple[Any, int | None]] = {}
        self.written = 0  # writes sent to the changelog so far
        #: delivery futures of the changelog writes sent since the last :meth:`delivered`
        self._sending: list[asyncio.Future[Any]] = []
        # Faust's own writes (write-through: ``table[key] = value``) go through this too
        table.send_changelog = functools.partial(self._send_changelog, table.send_changelog)

    # -- reads: the stage first, then the table ------------------------------------

    def _get(self, key: Any) -> tuple[Any, int | None] | None:
        staged = self._staged.get(key)
        return self._writing.get(key) if staged is None else staged

    def __getitem__(self, key: Any) -> Any:
        staged = self._get(key)
        if staged is None:
            return self.table.data[key]
        if staged[0] is _DELETED:
            raise KeyError(key)
        return staged[0]

    def __contains__(self, key: object) -> bool:
        staged = self._get(key)
        if staged is None:
            return key in self.table.data
        return staged[0] is not _DELETED

    def __iter__(self) -> Iterator[Any]:
        pending = {**self._writing, **self._staged}
        for key in list(self.table.data):
            if key not in pending:
                yield key
        for key, (value, _) in pending.items():
            if value is not _DELETED:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    # -- writes: staged, with the partition they belong to --------------------------

    def __setitem__(self, key: Any, value: Any) -> None:
        if self.write_through:
            self.table[key] = value  # Faust's own path: changelog and table sensors
        else:
            self.put(key, value, self._partition(key))

    def __delitem__(self, key: Any) -> None:
        if key not in self:
            raise KeyError(key)
        if self.write_through:
            del self.table[key]
        else:
            self.put(key, _DELETED, self._partition(key))

    def put(self, key: Any, value: Any, partition: int | None) -> None:
        """Stage ``value`` for ``key``, to go to changelog ``partition`` at the flush."""
        self._staged[key] = (value, partition)
        if self.write_through:
            self.flush()  # a live layer over a write-through table: no stage either

    @property
    def staged(self) -> int:
        return len(self._staged)

    def take(self) -> Callable[[], int]:
        """Take what is staged now, to be written by the function returned (once the
        outputs of the events that staged it are delivered); reads see it meanwhile."""
        self._writing.update(self._staged)
        self._staged = {}

        def write() -> int:
            writing, self._writing = self._writing, {}
            return self._write(writing)

        return write

    def flush(self) -> int:
        """Write every staged key to the table and its changelog once; how many were sent."""
        return self.take()()

    def _write(self, staged: dict[Any, tuple[Any, int | None]]) -> int:
        if not staged:
            return 0
        data, sent = self.table.data, 0
        for key, (value, partition) in staged.items():
            if value is _DELETED:
                if key not in data:
                    continue
                del data[key]
                self.table.send_changelog(partition, key, None, value_serializer="raw")
            else:
                if key in data and data[key] == value:
                    continue
                data[key] = value
                self.table.send_changelog(partition, key, value)
            sent += 1
        self.written += sent
        return sent

    def _send_changelog(self, send: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        sent = send(*args, **kwargs)
        if isinstance(sent, asyncio.Future):  # Faust's FutureMessage: done once delivered
            self._sending.append(sent)
        return sent

    async def delivered(self) -> None:
        """Wait until the broker has every changelog write sent so far (raises if it
        refused one)."""
        sending, self._sending = self._sending, []
        for fut in sending:
            await fut

    def forget(self) -> None:
        """Drop what is staged (only after a flush: partitions are moving)."""
        self._staged.clear()
        self._writing.clear()


class Plain:
    """A table without a broker (``data`` and a changelog list), for examples and tests."""

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}
        self.changelog: list[tuple[int | None, Any, Any]] = []

    def __setitem__(self, key: Any, value: Any) -> None:
        self.data[key] = value
        self.send_changelog(self.partition_for_key(key), key, value)

    def __delitem__(self, key: Any) -> None:
        del self.data[key]
        self.send_changelog(self.partition_for_key(key), key, None)

    def send_changelog(self, partition: int | None, key: Any, value: Any, **_: Any) -> None:
        self.changelog.append((partition, key, value))

    def partition_for_key(self, key: Any) -> int | None:
        return None
