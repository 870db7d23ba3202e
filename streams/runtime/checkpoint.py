"""The checkpoint: outputs in flight are delivered, then state is written, then offsets commit.

Where this sits: under every hop of the flow (reading → signal → alert → order →
notification), between the agents and the consumer's offset commit. Awaiting each
event's outputs before the next event made every output its own produce request
and a round trip; instead an event's outputs are handed to the producer and left
in flight, its state moves on in memory at once (live objects,
:mod:`streams.runtime.live`; staged table writes, :mod:`streams.runtime.staged`),
and the next event starts. What keeps that safe is the order at each checkpoint,
which runs before every offset commit and when partitions are revoked:

1. under :attr:`Checkpoint.gate`, which every hop that leaves outputs in flight
   holds while it runs (so no event is half done): the live state is staged in
   its tables, what the tables have staged and the outputs in flight are taken,
   and the offsets to commit are worked out (a hop that awaits its outputs needs
   no gate: its event is acked only once it returns, its state written after its
   outputs);
2. the agents go on, while every output taken is awaited; one refused for good
   stops the process at once (``os._exit``), before any state or offset of its
   event is written, so after a restart the input is read again;
3. only then is the state taken written to the tables' changelogs, and every
   changelog write sent so far is awaited until the broker has it (one refused
   stops the process, as above);
4. then Faust commits the offsets.

So a changelog never holds state whose outputs are not on the broker, and a
committed offset never passes an event whose outputs or state could be lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from streams.runtime.publish import Pending, Publisher
from streams.runtime.staged import Store

log = logging.getLogger(__name__)

T = TypeVar("T")


class Table(Store, Protocol):
    """A store whose writes can be taken at once and written later (a staged table)."""

    def take(self) -> Callable[[], int]: ...

    async def delivered(self) -> None: ...


class Checkpoint:
    """One per worker: the gate, the outputs in flight and the state to write."""

    def __init__(self, publisher: Publisher, die_in_flight: int = 0) -> None:
        """``die_in_flight``: test-only failpoint, exit like ``kill -9`` as soon as an event
        leaves at least that many outputs in flight (0: never)."""
        self.publisher = publisher
        self.gate = asyncio.Lock()
        self._in_flight = Pending()
        self._live: list[Store] = []  # flushed first: they write into tables
        self._tables: list[Table] = []
        self._committing = asyncio.Lock()  # one checkpoint at a time, revokes included
        self._die_in_flight = die_in_flight
        self.checkpoints = 0

    def keep_live(self, store: Store) -> None:
        """Write live ``store`` into its tables at every checkpoint, before the tables."""
        self._live.append(store)

    def keep(self, table: Table) -> None:
        """Write ``table`` at every checkpoint."""
        self._tables.append(table)

    def leave(self, pending: Pending) -> None:
        """Leave an event's outputs in flight; they are delivered by the next checkpoint."""
        if self._die_in_flight and len(pending.futures) >= self._die_in_flight:
            log.warning("failpoint die_with_outputs_in_flight: %d outputs", len(pending.futures))
            logging.shutdown()
            os._exit(137)
        self._in_flight.futures.extend(pending.futures)
        pending.futures = []

    @property
    def in_flight(self) -> int:
        return len(self._in_flight.futures)

    async def settle(self) -> None:
        """Wait until the broker has every output in flight (or exit: see the module)."""
        await self.publisher.deliver(self._in_flight, "checkpoint")

    async def commit(self, offsets: Callable[[], T]) -> T:
        """Work out ``offsets`` (the consumer's offsets to commit) as the module describes.

        Under the gate only what must be: the live state staged, what is staged and in
        flight taken, the offsets worked out. The agents go on while the outputs taken
        are delivered, and only then is the state taken written."""
        async with self._committing:
            async with self.gate:
                for store in self._live:
                    store.flush()
                writes = [table.take() for table in self._tables]
                in_flight, self._in_flight = self._in_flight, Pending()
                found = offsets()
            await self.publisher.deliver(in_flight, "checkpoint")
            for write in writes:
                write()
            await self._changelogs_delivered()
            self.checkpoints += 1

            return found

    async def revoke(self, flush_producer: Callable[[], Awaitable[object]]) -> None:
        """Partitions are moving: write everything, have it sent, forget the live state
        (the tables are restored for whatever this worker is assigned next)."""
        async with self._committing, self.gate:
            await self.settle()
            for store in (*self._live, *self._tables):
                store.flush()
            await self._changelogs_delivered()
            await flush_producer()  # the next owner restores the changelog: it must be there
            for store in (*self._live, *self._tables):
                store.forget()

    async def _changelogs_delivered(self) -> None:
        """Wait until the broker has every changelog write sent so far, or exit (a state
        write refused for good: the offsets must not pass it)."""
        for table in self._tables:
            try:
                await table.delivered()
            except Exception:  # pragma: no cover - needs a broker that fails for good
                log.critical("a changelog write was not delivered; exiting to re-read")
                logging.shutdown()
                os._exit(70)
