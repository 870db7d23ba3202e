"""Offsets: commit only what was processed, across rebalances.

Where this sits: under every agent, between Kafka and the first hop of the flow
(reading → signal → alert → order → notification). No event passes through it;
it decides which input offsets a worker commits, so that a reading is never
marked done before some worker has handled it.

Why it exists (found by ``yujing bench``, then measured with a script): with
two workers starting on a backlog, faust-streaming 0.15 committed past
readings nobody had processed in 3 of 10 runs (58, 101 and 65 of 1,000 alarms
never became signals). Three behaviours combine during a rebalance:

* its consumer treats a jump in fetched offsets as a *gap* and counts the
  skipped offsets as acknowledged (meant for compacted or transactional
  topics); after a rebalance the fetcher jumps when buffered messages were
  cleared, so unprocessed readings were committed (seen: committed 9,057 while
  7,665..9,055 had never reached an agent);
* its head-of-queue check lets a commit start one past the committed offset,
  and is skipped altogether when the committed offset is 0 or unknown;
* aiokafka's ``seek_to_committed`` does not seek a partition whose committed
  offset is 0 or none, so such a partition resumes from wherever the old
  generation's fetcher had got to.

:class:`StrictOffsetConsumer` changes exactly these: no gap is ever counted as
processed (our topics are neither compacted nor transactional, so a real gap
cannot occur), a commit must start at the committed offset, and a partition
with nothing committed is sought to its first offset on every assignment. The
worst case becomes a stalled partition (visible as consumer lag, and re-read
on the next assignment), never a lost reading.
"""

from __future__ import annotations

import bisect
import logging
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

log = logging.getLogger(__name__)


def next_commit(acked: list[int], committed: int | None) -> tuple[int | None, list[int]]:
    """The offset to commit after ``committed``, given the acknowledged offsets.

    ``acked`` is sorted in place and stripped of the offsets it no longer needs:
    those below ``committed`` (stale) and the consecutive run starting at
    ``committed``; they are returned as the second element. Nothing is committed
    unless the first unprocessed offset, ``committed`` itself, is acknowledged;
    with no committed offset known, nothing is committed.

    >>> next_commit([5, 3, 4, 7], 3)
    (6, [3, 4, 5])
    >>> next_commit([4, 5], 3)          # 3 itself is not done
    (None, [])
    >>> next_commit([1, 2, 3], None)    # no known start
    (None, [])
    >>> next_commit([1, 2, 4], 2)       # 1 is below the committed offset: stale
    (3, [1, 2])
    """
    acked.sort()
    if not acked or committed is None:
        return None, []
    stale = bisect.bisect_left(acked, committed)
    if stale == len(acked) or acked[stale] != committed:
        removed = acked[:stale]
        del acked[:stale]
        return None, removed
    end = stale + 1
    while end < len(acked) and acked[end] == acked[end - 1] + 1:
        end += 1
    removed = acked[:end]
    del acked[:end]
    return removed[-1] + 1, removed


class StrictOffsetConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, committing only offsets some agent processed."""

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        # A jump in fetched offsets on our (uncompacted, non-transactional) topics
        # comes from a seek or a cleared buffer, never from missing records: the
        # skipped offsets are unprocessed, not done.
        log.warning(
            "fetch of %s jumped over offsets %d..%d; they stay uncommitted until processed",
            tp,
            offset_from,
            offset_to - 1,
        )

    def _new_offset(self, tp: TP) -> int | None:
        offset, removed = next_commit(self._acked[tp], self._committed_offset[tp])
        self._acked_index[tp].difference_update(removed)
        return offset

    async def perform_seek(self) -> None:
        await super().perform_seek()
        acking = self.app.topics.acks_enabled_for
        unknown = [
            tp
            for tp in self.assignment()
            if acking(tp.topic) and self._committed_offset[tp] is None
        ]
        if not unknown:
            return
        earliest = await self.earliest_offsets(*unknown)
        for tp in unknown:
            start = earliest.get(tp)
            if start is None:
                continue
            await self.seek(tp, start)
            self._committed_offset[tp] = start


class StrictOffsetTransport(faust_aiokafka.Transport):
    """The aiokafka transport with :class:`StrictOffsetConsumer`."""

    Consumer = StrictOffsetConsumer


def use_strict_offsets(app: Any) -> None:
    """Make ``app`` consume through :class:`StrictOffsetTransport` (before it starts)."""
    app.transport = StrictOffsetTransport(app.conf.broker_consumer, app)
