"""Early updates: lifecycle updates that reached the tracker before their own order.

(alert → **order** ← update.) A field app reads the dispatch order from its topic
and a worker may sign it before the order tracker, on another topic with its own
lag, has read that order. Such an update is parked here, keyed by its order id
(co-partitioned with the order), and applied when the order arrives; one whose
order has not come within ``wait`` of pipeline time is refused then, as
``unknown_order``. What is kept per update is its JSON and where it was read, so
a refused update's dead letter still names its source record.

The parked entries live in a mapping the caller provides (a changelog-backed
table: one JSON entry per order id). Nothing here writes it: :meth:`park`,
:meth:`take` and :meth:`expired` say what to write, and the tracker writes it once
the outputs are on the broker, like its order records.

>>> from datetime import UTC
>>> from schemas import OrderAction
>>> t = datetime(2026, 6, 1, tzinfo=UTC)
>>> u = DispatchUpdate(update_id="u1", order_id="o1", action=OrderAction.SIGNED,
...                    actor="w", event_time=t)
>>> early = EarlyUpdates({}, wait=timedelta(minutes=5))
>>> entry = early.park(u, Where("updates", 0, 41), t)
>>> early.entries["o1"] = entry
>>> [p.update.update_id for p in early.parked("o1")]
['u1']
>>> early.expired(0, t + timedelta(minutes=4)), len(early.expired(0, t + timedelta(minutes=5)))
({}, 1)
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schemas import DispatchUpdate

#: Updates kept per order at most: more for an order never seen are refused at once.
MAX_PER_ORDER = 16


@dataclass(frozen=True)
class Where:
    """Where an update was read: topic, partition, offset."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Parked:
    """One update waiting for its order, and where it was read."""

    update: DispatchUpdate
    where: Where


class EarlyUpdates:
    """Updates waiting for their orders, by order id (one entry per order)."""

    def __init__(self, entries: MutableMapping[str, Any], wait: timedelta) -> None:
        self.entries = entries
        #: pipeline time an update waits for its order before it is refused
        self.wait = wait

    def park(self, update: DispatchUpdate, where: Where, now: datetime) -> dict[str, Any] | None:
        """The entry to write with ``update`` parked (unchanged if it is a replay), or
        ``None`` if its order already has as many waiting as are kept."""
        entry = self.entries.get(update.order_id) or {
            "partition": where.partition,
            "since": now.isoformat(),
            "updates": [],
        }
        items: list[dict[str, Any]] = list(entry["updates"])
        if any(i["update_id"] == update.update_id for i in items):
            return dict(entry)
        if len(items) >= MAX_PER_ORDER:
            return None
        items.append(
            {
                "update_id": update.update_id,
                "update": update.model_dump_json(),
                "topic": where.topic,
                "offset": where.offset,
            }
        )
        return {**entry, "updates": items}

    def parked(self, order_id: str) -> list[Parked]:
        """The updates waiting for ``order_id``, by event time then offset."""
        entry = self.entries.get(order_id)
        return [] if entry is None else _unpack(entry)

    def expired(self, partition: int, now: datetime) -> dict[str, list[Parked]]:
        """Per order id of ``partition``: updates that waited ``wait`` or more, by ``now``."""
        done: dict[str, list[Parked]] = {}
        for order_id, entry in list(self.entries.items()):
            if entry is None or entry.get("partition") != partition:
                continue
            if datetime.fromisoformat(entry["since"]) + self.wait <= now:
                done[order_id] = _unpack(entry)
        return done


def _unpack(entry: dict[str, Any]) -> list[Parked]:
    partition = int(entry["partition"])
    items = [
        Parked(
            DispatchUpdate.model_validate_json(i["update"]),
            Where(str(i["topic"]), partition, int(i["offset"])),
        )
        for i in entry["updates"]
    ]
    return sorted(items, key=lambda p: (p.update.event_time, p.where.offset))
