"""Due index: which orders a clock tick has to look at.

(order → **breach** → notification.) The SLA agent keeps every order in a
changelog-backed table; a tick used to validate and check each of them, so its
cost grew with all open orders (4.4 µs each: 44 ms per tick at 10,000, time in
which no reading is processed). This index keeps, per partition, each order's
next due time (:func:`streams.core.orders.lifecycle.next_due`), so a tick touches only
the orders due. It is memory only, never the source of truth: it is built from
the table on the first tick of a partition after every assignment, and kept
current by every write of a record.

>>> from datetime import UTC, datetime, timedelta
>>> from streams.core.orders.lifecycle import OrderRecord
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> rec = OrderRecord(order_id="o1", alert_id="a1", partition=0, sla_class="emergency",
...                   state="open", deadlines={"signed": t + timedelta(minutes=5)},
...                   escalate_to="x", receiver="y", channels=["sms"])
>>> index = DueIndex()
>>> index.put(rec)                      # partition 0 not built yet: nothing kept
>>> index.built(0)
False
>>> index.build(0, [rec])
>>> index.due(0, t), index.due(0, t + timedelta(minutes=5))
([], ['o1'])
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime

from streams.core.orders.lifecycle import OrderRecord, next_due


class _Partition:
    __slots__ = ("heap", "when")

    def __init__(self) -> None:
        self.when: dict[str, datetime] = {}  # order id → its current due time
        self.heap: list[tuple[datetime, str]] = []  # may hold stale entries


class DueIndex:
    """Per partition: order id → the time its record next needs a tick.

    A heap per partition makes a tick cost O(due · log n), not O(n): entries
    superseded by a later :meth:`put` stay in the heap until they surface and
    are dropped, and the heap is rebuilt when they outnumber the live ones.
    """

    def __init__(self) -> None:
        self._parts: dict[int, _Partition] = {}

    def built(self, partition: int) -> bool:
        return partition in self._parts

    def build(self, partition: int, records: Iterable[OrderRecord]) -> None:
        """Index ``partition`` from its records (all of them, as the table holds them)."""
        self._parts[partition] = _Partition()
        for rec in records:
            self.put(rec)

    def put(self, rec: OrderRecord) -> None:
        """After every write of ``rec``; ignored while its partition is not built."""
        part = self._parts.get(rec.partition)
        if part is None:
            return
        due = next_due(rec)
        if due is None:
            part.when.pop(rec.order_id, None)
            return
        if part.when.get(rec.order_id) == due:
            return
        part.when[rec.order_id] = due
        heapq.heappush(part.heap, (due, rec.order_id))
        if len(part.heap) > 2 * len(part.when) + 64:
            part.heap = [(t, oid) for oid, t in part.when.items()]
            heapq.heapify(part.heap)

    def due(self, partition: int, now: datetime) -> list[str]:
        """Order ids due at ``now``, earliest first (ties by id).

        They stay indexed until a :meth:`put` moves them: a tick whose output
        could not be stored finds them again on the next one.
        """
        part = self._parts.get(partition)
        if part is None:
            return []
        found: list[tuple[datetime, str]] = []
        while part.heap and part.heap[0][0] <= now:
            t, oid = heapq.heappop(part.heap)
            if part.when.get(oid) == t and (not found or found[-1] != (t, oid)):
                found.append((t, oid))
        for entry in found:
            heapq.heappush(part.heap, entry)
        return [oid for _, oid in found]

    def pending(self, partition: int) -> int:
        part = self._parts.get(partition)
        return 0 if part is None else len(part.when)

    def forget(self) -> None:
        """On revocation: partitions may move; rebuild from the table when ticked."""
        self._parts.clear()
