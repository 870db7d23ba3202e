"""The worker's Kafka consumer: every record on a source topic is processed at least once.

Where this sits: under every agent, between Kafka and the first hop of the flow
(reading → signal → alert → order → notification). It replaces three pieces of
faust-streaming 0.15's aiokafka consumer that lost or stalled records (the
decisions themselves are the pure functions of :mod:`streams.runtime.offsets`):

* **Commits**: only what was processed, and only what the group took counts as
  committed (:mod:`streams.runtime.commits`, which this consumer builds on). A
  partition with nothing committed is sought to its first offset on every
  assignment, and every seek to the committed offsets learns them from the group
  afresh.
* **The drain loop** (issue 9). At the end of every rebalance (a restart too),
  Faust resumes the stream partitions, seeks them to their committed offsets
  (about 30 ms, one partition at a time) and only then resumes the flow, and
  resuming the flow *clears the streams' buffers*. Records fetched and handed
  over during the seek were cleared before any agent saw them. Faust's loop then
  dropped their refetched copies, because it skipped every record below "the last
  offset delivered", a position that two writers set with different meanings:
  the seek (next to read) and the loop itself (last delivered), which went on
  writing it for the batch fetched before the seek. Nothing processed those
  records and the partition's commit waited on them forever (traced: a batch from
  the committed offsets handed over between the seek's start and end, none of it
  ever acked). Here (a) no record of a source topic is handed over while a
  rebalance is in progress (changelog records are: the recovery needs them, so
  the loop cannot wait either): its partition is sought back to its committed
  offset once the rebalance has ended, and
  (b) the loop is the only writer of what it handed over, every seek forgets it
  (:class:`~streams.runtime.offsets.HandedOver`), and a record is skipped only when it was
  handed over since the partition's last seek, and (c) a record is handed over
  only if every offset before it since that seek was
  (:meth:`~streams.runtime.offsets.HandedOver.gap`): records fetched while their
  partition was paused were dropped and the fetch moved past them, so the
  partition is read again from the first one missing (chaos T2 and T3 found it:
  a restarted worker began past its committed offsets). The loop also hands
  records straight to the conductor, without Faust's two tasks per message.
* **A stuck partition is never silent**: every ``stall_check_s`` a watchdog looks
  at each source partition's committed offset; if for ``stall_after_s`` the record
  there is neither processed, nor being processed, nor in a stream's buffer while
  records wait behind it (:class:`~streams.runtime.offsets.StallWatch`), it logs a
  warning, counts ``yujing_offset_reseeks_total`` and seeks the partition back to
  the committed offset, so the record is read again (what it looks at:
  :mod:`streams.runtime.stalls`).

The internals relied on are pinned by ``tests/streams/runtime/test_consumer_internals.py``
and by exact versions of faust-streaming and aiokafka in ``pyproject.toml``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from mode import Service

from streams.runtime.commits import CommittingConsumer
from streams.runtime.offsets import HandedOver, StallWatch
from streams.runtime.stalls import (
    learn_start,
    read_stalled_recoveries_again,
    stuck_heads,
    unknown_starts,
)

log = logging.getLogger(__name__)

#: Hand control back to the event loop after this many records in a row.
YIELD_EVERY = 100

OnReseek = Callable[[TP, int], None]


class StrictOffsetConsumer(CommittingConsumer):
    """Faust's aiokafka consumer, committing and skipping only what was processed.

    The watchdog's settings come from its :class:`StrictOffsetTransport`.
    """

    transport: StrictOffsetTransport

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._handed = HandedOver()
        self._stalls = StallWatch()
        #: source partitions with records held back during a rebalance (read again after)
        self._held: set[TP] = set()
        #: source partitions seen with no known committed offset, and since when
        self._unknown_since: dict[TP, float] = {}
        #: changelog partitions under recovery: the offset each was last seen at, and when
        self._restoring_since: dict[TP, tuple[int, float]] = {}
        super().__init__(*args, **kwargs)

    # -- seeks: each one forgets what was handed over before it ------------------

    async def perform_seek(self) -> None:
        acking = self.app.topics.acks_enabled_for
        # Learnt from the group afresh: Faust keeps what it believed committed where the
        # group has nothing, and a failed commit may have left a belief behind (T4).
        self.forget_committed(tp for tp in self.assignment() if acking(tp.topic))
        await super().perform_seek()
        unknown = [
            tp
            for tp in self.assignment()
            if acking(tp.topic) and self._committed_offset[tp] is None
        ]
        if unknown:
            earliest = await self.earliest_offsets(*unknown)
            for tp in unknown:
                start = earliest.get(tp)
                if start is None:
                    continue
                await self.seek(tp, start)
                self._committed_offset[tp] = start
        # Only now: a record handed over while the seek ran may be dropped by the
        # streams, and must not stop its refetched copy. Every partition is at its
        # committed offset now: whatever was held back before is read again anyway.
        self._handed.forget()
        self._stalls.forget()
        self._held.clear()

    async def seek(self, partition: TP, offset: int) -> None:
        await super().seek(partition, offset)
        self._handed.forget([partition])

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        await super().seek_wait(partitions)
        self._handed.forget(partitions)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self._handed.forget(revoked)
        self._stalls.forget(revoked)
        await super().on_partitions_revoked(revoked)

    # -- the drain loop ------------------------------------------------------------

    async def _drain_messages(self, fetcher: Any) -> None:
        """Hand every fetched record to the conductor, skipping only re-fetched copies."""
        app = self.app
        callback = self.callback
        handed = self._handed
        flow_control = app.flow_control
        to_message = self._to_message
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        track_end_offset = app.monitor.track_tp_end_offset
        buffered = self._buffered_partitions
        acking = app.topics.acks_enabled_for
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                if self._held and not app.rebalancing:
                    await self._read_held_again()
                self.diag.set_flag(CONSUMER_FETCHING)
                records, active = await self._wait_next_records(1.0)
                if not records or self.should_stop:
                    self.diag.unset_flag(CONSUMER_FETCHING)
                    continue
                # Read after the fetch: a batch is stale only if a rebalance begins while
                # it is handed over, and then that rebalance's seeks bring it back. One
                # that began during the fetch has sought already: dropping the batch
                # then would lose it (seen: a table recovery that waited forever).
                generation = app.consumer_generation_id
                for tp in records:
                    track_end_offset(tp, self.highwater(tp))
                since_yield = 0
                sought: set[TP] = set()  # read again from a gap: the rest of this fetch waits
                for tp, record in self.scheduler.iterate(records):
                    if not self.flow_active or app.consumer_generation_id != generation:
                        # A rebalance began: its recovery seeks the changelogs and ends
                        # with every stream partition sought to its committed offset; the
                        # held partitions are read again after it, to be sure.
                        self._held.update(t for t in records if acking(t.topic))
                        break
                    if active is not None and tp not in active and tp not in buffered:
                        continue  # paused since the fetch (a changelog after its recovery)
                    offset = record.offset
                    if tp in sought or handed.seen(tp, offset):
                        continue  # handed over since the last seek: a refetched copy
                    if acking(tp.topic) and (app.rebalancing or not flow_control.is_active()):
                        # Faust clears the streams' buffers when it resumes the flow at the
                        # end of a rebalance, after it has resumed and sought the stream
                        # partitions: a record handed over before that is lost. Not waiting
                        # here (the recovery needs this loop for the changelogs): the
                        # partition is read again from its committed offset afterwards.
                        self._held.add(tp)
                        continue
                    if tp in self._held:  # held back before: read again from its commit first
                        sought.update(await self._read_held_again())
                        if tp in sought:
                            continue
                    if acking(tp.topic) and await self._read_gap_again(tp, offset):
                        sought.add(tp)
                        continue
                    if self._commit_every is not None and self._n_acked >= self._commit_every:
                        self._n_acked = 0
                        await self.commit()
                    if self.transport.lose_handover is not None and self._lose(tp):
                        handed.add(tp, offset)  # failpoint: handed over, never processed
                        continue
                    message = to_message(tp, record)
                    epoch = handed.epoch
                    if not flow_control.is_active() or self._may_block(tp):
                        if not await self._hand_over_unless_stopped(message):
                            break  # flow stopped (a rebalance): it ends with a seek
                    else:
                        await callback(message)
                    if handed.epoch == epoch:  # else a seek overtook it: vouch for nothing
                        handed.add(tp, offset)
                    since_yield += 1
                    if since_yield >= YIELD_EVERY:
                        since_yield = 0
                        await asyncio.sleep(0)
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                log.info("broker stopped the consumer; shutting down")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise
        except Exception:
            log.exception("drain loop failed")
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)

    async def _read_gap_again(self, tp: TP, offset: int) -> bool:
        """Seek ``tp`` back if offsets before ``offset`` were never handed over; whether."""
        missing = self._handed.gap(tp, offset, self._committed_offset.get(tp))
        if missing is None:
            return False
        log.warning(
            "%s[%d]: offsets %d..%d were never processed: reading them again first",
            *(tp.topic, tp.partition, missing, offset - 1),
        )
        await self._read_again(tp, missing)
        return True

    async def _read_held_again(self) -> set[TP]:
        """After a rebalance: seek every partition held back during it to its committed
        offset (at or below anything it held back: never past an unprocessed record).
        The partitions sought."""
        held, self._held = self._held, set()
        assigned = self.assignment()
        targets = {
            tp: offset
            for tp in held
            if tp in assigned and (offset := self._committed_offset.get(tp)) is not None
        }
        if targets:
            log.debug("reading %d partitions held back by a rebalance again", len(targets))
            await self.seek_wait(targets)
        return set(targets)

    def _may_block(self, tp: TP) -> bool:
        """Whether handing a record of ``tp`` over could wait: a full stream buffer, a
        full producer buffer. Then the hand-over must give way to a rebalance, which
        clears the buffers without waking a waiting writer."""
        app: Any = self.app
        producer = app._producer
        if producer is not None and producer.buffer.size > producer.buffer.max_messages:
            return True
        channels = app.topics._topic_name_index.get(tp.topic, ())
        return any(channel.queue.full() for channel in channels)

    async def _hand_over_unless_stopped(self, message: Any) -> bool:
        """Hand ``message`` over, giving up if the flow stops first; whether it went."""
        handing = asyncio.ensure_future(self.callback(message))
        stopping = asyncio.ensure_future(self.suspend_flow.wait())
        try:
            await asyncio.wait({handing, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not handing.done():
            handing.cancel()
            return False
        handing.result()  # re-raise a failure of the conductor
        return True

    # -- the stall watchdog --------------------------------------------------------

    @Service.task
    async def _watch_for_stalls(self) -> None:
        while not self.should_stop:
            await self.sleep(self.transport.stall_check_s)
            if self.should_stop:
                break
            try:
                await self.check_stalls(time.monotonic())
            except Exception:  # the watchdog must never take the worker down
                log.exception("stall check failed")

    async def check_stalls(self, now: float) -> list[tuple[TP, int]]:
        """Re-seek every source partition whose head has been stuck unheld too long."""
        for tp in unknown_starts(self, self._unknown_since, now):
            start = await learn_start(self, tp)
            if start is not None:
                await self._read_again(tp, start)
        await read_stalled_recoveries_again(self, now)
        stuck = stuck_heads(self, now)
        for tp, (offset, seconds) in stuck.items():
            log.warning(
                "%s[%d] stuck at offset %d for %.0f s with nothing processing it: reading "
                "it again from there",
                *(tp.topic, tp.partition, offset, seconds),
            )
            self._stalls.forget([tp])
            await self._read_again(tp, offset)
        return [(tp, offset) for tp, (offset, _) in stuck.items()]

    async def _read_again(self, tp: TP, offset: int) -> None:
        await self.seek_wait({tp: offset})
        if self.transport.on_reseek is not None:
            self.transport.on_reseek(tp, offset)

    def _lose(self, tp: TP) -> bool:
        """Test-only failpoint: lose the first record handed over from one topic."""
        if tp.topic != self.transport.lose_handover:
            return False
        log.warning("failpoint lose_handover: %s[%d] record not processed", tp.topic, tp.partition)
        self.transport.lose_handover = None
        return True

    def stalled_seconds(self, now: float) -> Mapping[TP, float]:
        """Seconds each stuck source partition's head has gone unheld (for the metric)."""
        return self._stalls.stuck(now)  # type: ignore[return-value]


class StrictOffsetTransport(faust_aiokafka.Transport):
    """The aiokafka transport with :class:`StrictOffsetConsumer` and its watchdog settings."""

    Consumer: ClassVar[type[faust_aiokafka.Consumer]] = StrictOffsetConsumer
    #: Seconds a head offset may sit unheld with records behind it before a re-seek.
    stall_after_s: float = 30.0
    #: How often the watchdog looks.
    stall_check_s: float = 5.0
    #: Called after each re-seek of a stuck partition (the metric).
    on_reseek: OnReseek | None = None
    #: Test-only failpoint: the physical topic whose first record is handed over and
    #: then lost, the way Faust's drain loop lost records (proves the watchdog).
    lose_handover: str | None = None


def use_strict_offsets(
    app: Any,
    *,
    on_reseek: OnReseek | None = None,
    stall_after_s: float = StrictOffsetTransport.stall_after_s,
    stall_check_s: float = StrictOffsetTransport.stall_check_s,
    lose_handover: str | None = None,
) -> None:
    """Make ``app`` consume through :class:`StrictOffsetConsumer` (before it starts)."""
    transport = StrictOffsetTransport(app.conf.broker_consumer, app)
    transport.on_reseek = on_reseek
    transport.stall_after_s = stall_after_s
    transport.stall_check_s = min(stall_check_s, stall_after_s)
    transport.lose_handover = lose_handover
    app.transport = transport
