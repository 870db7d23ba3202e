"""The consumer's commit side: what a worker tells its group it has processed.

Where this sits: under every agent, between Kafka and the first hop of the flow
(reading → signal → alert → order → notification). No event passes through it;
it decides the offsets a worker commits (the pure decisions are in
:mod:`streams.runtime.offsets`) and keeps what the worker believes committed
honest. :class:`~streams.runtime.consumer.StrictOffsetConsumer` builds its drain
loop and stall watchdog on top of it.

* **A commit starts at the committed offset** (found by ``yujing bench``, session
  2): Faust counted a jump in fetched offsets as processed and let a commit start
  one past the committed offset. Here no gap counts as done
  (:func:`~streams.runtime.offsets.next_commit`).
* **A commit runs behind the checkpoint** (:func:`guard_commits`): the offsets are
  worked out only once every output and state write of the events they cover
  went out.
* **Only a commit the group took counts** (chaos T4, a broker frozen for 30 s):
  Faust recorded a failed commit's offsets as committed all the same. The commit
  failed because the group rebalanced under it, and its offsets landed after the
  revoke had cleared the partitions' state; the assignment's seek overwrote them
  only where the group had something committed. On a partition the group had never
  committed, the record refetched after the seek fell below the offset believed
  committed, its ack was ignored, and with nothing more arriving there the
  partition was never committed (the worker waited on it forever). Here a failed
  commit leaves its partitions' committed offsets unknown, and every seek to the
  committed offsets learns them from the group afresh (:meth:`forget_committed`):
  an unknown one is read from the group's commit, else the log's start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from faust.exceptions import ProducerSendError
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from streams.runtime.offsets import next_commit

#: Works out the offsets to commit with the function it is given, after whatever must
#: come first (a checkpoint).
CommitGuard = Callable[[Callable[[], dict[TP, int]]], Awaitable[dict[TP, int]]]


def guard_commits(app: Any, guard: CommitGuard) -> None:
    """Run every offset commit of ``app``'s consumer through ``guard``."""
    app.__dict__["_yujing_commit_guard"] = guard


class CommittingConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, committing only what was processed and believing
    committed only what the group took."""

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        # Never called by our drain loop; kept so that no other caller can count
        # skipped offsets as processed: our topics are neither compacted nor
        # transactional, so a jump in offsets is a seek, not missing records.
        return None

    def _new_offset(self, tp: TP) -> int | None:
        offset, removed = next_commit(self._acked[tp], self._committed_offset[tp])
        self._acked_index[tp].difference_update(removed)
        return offset

    async def _commit_tps(self, tps: Iterable[TP], start_new_transaction: bool) -> bool:
        # Faust's own steps, but the offsets are worked out by the guard (the
        # checkpoint), to cover only events whose outputs and state go out first.
        guard: CommitGuard | None = self.app.__dict__.get("_yujing_commit_guard")
        if guard is None:
            return bool(await super()._commit_tps(tps, start_new_transaction))
        tps = list(tps)
        offsets = await guard(lambda: self._filter_committable_offsets(tps))
        if not offsets:
            return False
        try:
            await self._handle_attached(offsets)
        except ProducerSendError as exc:
            await self.crash(exc)
            return False
        return bool(await self._commit_offsets(offsets, start_new_transaction))

    async def _commit_offsets(
        self, offsets: Mapping[TP, int], start_new_transaction: bool = True
    ) -> bool:
        did_commit = bool(await super()._commit_offsets(offsets, start_new_transaction))
        if not did_commit:
            # Faust wrote these offsets down as committed regardless; the group has
            # whatever it had before, which the next seek (a rebalance follows a
            # failed commit) or the watchdog learns from it.
            self.forget_committed(
                tp for tp, offset in offsets.items() if self._committed_offset.get(tp) == offset
            )
        return did_commit

    def forget_committed(self, tps: Iterable[TP]) -> None:
        """Make the committed offsets of ``tps`` unknown: to be learnt from the group."""
        for tp in list(tps):
            self._committed_offset.pop(tp, None)
