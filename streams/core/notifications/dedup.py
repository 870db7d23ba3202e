"""Dedup: a notification whose receipt is already published is not sent again.

(order → notification → **provider** → receipt.) A notification comes again
after a ``kill -9`` or a rebalance (its offset was not committed yet); if its
receipt already made it to the receipts topic there is nothing left to do. The
ledger is this worker's knowledge of that topic, per partition: read back from
the topic when a partition is first handled after an assignment (by the
runtime), then kept up to date as receipts are published. Receipts are keyed by
notification id like the notifications and pending calls, so partition *p* of
one is partition *p* of the others. The provider's Idempotency-Key stays the
second line of defence: a send the ledger cannot rule out is still sent once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from streams.core.notifications.retry import Backoff
from streams.core.notifications.stages import Context

log = logging.getLogger(__name__)

T = TypeVar("T")


class ReceiptLedger:
    """Notification ids with a receipt on the receipts topic, per partition.

    Only ever true facts: a receipt once published stays published, so what
    one agent learns another may rely on, and a read-back merges with what was
    learnt meanwhile rather than replacing it.

    >>> ledger = ReceiptLedger()
    >>> ledger.seen(0, "ntf-1"), ledger.built(0)
    (False, False)
    >>> ledger.build(0, ["ntf-1"])
    True
    >>> ledger.add(0, "ntf-2")
    >>> ledger.seen(0, "ntf-1"), ledger.seen(0, "ntf-2"), ledger.seen(1, "ntf-1")
    (True, True, False)
    """

    def __init__(self) -> None:
        self._known: dict[int, set[str]] = {}
        self._built: set[int] = set()
        #: bumped by :meth:`forget`: a read-back begun before it is stale
        self.generation = 0

    def built(self, partition: int) -> bool:
        """Whether this partition's receipts were read back since the last :meth:`forget`."""
        return partition in self._built

    def build(self, partition: int, receipted: Iterable[str], generation: int = -1) -> bool:
        """What the read-back of this partition found; False (ignored) if begun before a forget."""
        if generation not in (-1, self.generation):
            return False
        self._known.setdefault(partition, set()).update(receipted)
        self._built.add(partition)
        return True

    def add(self, partition: int, notification_id: str) -> None:
        """A receipt this worker published (and the broker acknowledged)."""
        self._known.setdefault(partition, set()).add(notification_id)

    def seen(self, partition: int, notification_id: str) -> bool:
        return notification_id in self._known.get(partition, ())

    def forget(self) -> None:
        """Partitions moved: another worker may publish there now; read back again."""
        self._known.clear()
        self._built.clear()
        self.generation += 1

    def size(self, partition: int) -> int:
        return len(self._known.get(partition, ()))


@dataclass(frozen=True)
class Dedup(Generic[T]):
    """Stop the chain for an item whose notification already has a receipt."""

    ledger: ReceiptLedger
    notification_id: Callable[[T], str]

    async def exec(self, ctx: Context, item: T, /) -> T | None:
        if self.ledger.seen(ctx.partition, self.notification_id(item)):
            return None
        return item


@dataclass
class ReadBack(Generic[T]):
    """Before a partition's first item (after an assignment): read its receipts back.

    ``read(partition)`` is the I/O (the runtime reads the receipts topic); it
    is retried with backoff until it answers, since nothing can be published
    without the broker anyway. Agents sharing the ledger share the read-back.
    """

    ledger: ReceiptLedger
    read: Callable[[int], Awaitable[Iterable[str]]]
    backoff: Backoff = field(default_factory=lambda: Backoff(base_s=0.5, max_s=10.0))
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict, init=False, repr=False)

    async def exec(self, ctx: Context, item: T, /) -> T:
        p = ctx.partition
        attempt = 0
        while not self.ledger.built(p):
            async with self._locks.setdefault(p, asyncio.Lock()):
                if self.ledger.built(p):
                    break
                attempt += 1
                await ctx.sleep(self.backoff.delay(attempt))
                generation = self.ledger.generation
                try:
                    found = await self.read(p)
                except Exception as err:  # the broker will answer later: try again
                    log.warning("partition %d: cannot read receipts back yet: %r", p, err)
                    continue
                if self.ledger.build(p, found, generation):
                    log.info(
                        "partition %d: %d notifications already receipted", p, self.ledger.size(p)
                    )
        return item
