"""Read-through: has an agent handled every record written to a partition before now?

(order → **breach**.) A tick judges SLA deadlines; the updates and re-check
verdicts that meet them come on other topics, co-partitioned with the ticks.
Kafka orders records within a partition, never across topics: in a burst a tick
can be read while an update reported on time still waits on its own topic, and
the stage it met would be breached. A grace (``YUJING_SLA_GRACE_S``) only covers
lags shorter than itself. So before a tick judges partition *p*, the order
tracker asks, for each co-partitioned input, whether the records written there
are all handled: the consumer's highwater for the partition (from its latest
fetch, which is no older than the fetch that brought the tick) against the next
offset after the last record handled (or, before any, the committed offset).
While one lags the tick judges nothing; the next tick judges again.

>>> from streams.runtime.agent import Source
>>> positions = {("updates", 0): (5, 3)}   # (highwater, committed offset)
>>> where = lambda topic, p: positions.get((topic, p), (None, None))
>>> rt = ReadThrough(where, {"updates": "dispatch-updates.v1"})
>>> rt.behind(0)      # offsets 3 and 4 are not handled yet
['dispatch-updates.v1']
>>> rt.handled(Source("updates", 0, 4))
>>> rt.behind(0)
[]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from streams.runtime.agent import Source

#: (highwater, committed offset) of a topic's partition as the consumer knows them, each
#: None when it cannot say (not fetched from yet; never committed)
Positions = Callable[[str, int], tuple[int | None, int | None]]


class ReadThrough:
    """The next offset to handle on each (topic, partition), from what the agent handled.

    Kept across rebalances: an offset handled stays handled, and a partition that
    came back after another worker's turn is judged by that worker's commit."""

    def __init__(self, positions: Positions, topics: Mapping[str, str]) -> None:
        """``topics``: the inputs a tick waits for, physical topic name → registry name."""
        self._positions = positions
        self._topics = dict(topics)
        self._next: dict[tuple[str, int], int] = {}

    def handled(self, src: Source | None) -> None:
        """The record read at ``src`` is handled (None: a record of no input here)."""
        if src is None or src.topic not in self._topics:
            return
        key = (src.topic, src.partition)
        self._next[key] = max(self._next.get(key, 0), src.offset + 1)

    def behind(self, partition: int) -> list[str]:
        """The inputs (registry names) whose ``partition`` may hold records not handled yet.

        A partition the consumer has no highwater for (not fetched yet) counts as
        behind; so does one with records and neither a handled record nor a commit."""
        late = []
        for topic, name in self._topics.items():
            highwater, committed = self._positions(topic, partition)
            done = max(self._next.get((topic, partition), 0), committed or 0)
            if highwater is None or done < highwater:
                late.append(name)
        return late
