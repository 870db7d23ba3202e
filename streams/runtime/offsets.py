"""Offsets: what a worker may commit, skip or must read again. Pure bookkeeping, no Kafka.

Where this sits: under every agent, between Kafka and the first hop of the flow
(reading → signal → alert → order → notification). No event passes through it;
:mod:`streams.runtime.consumer` asks it three questions for every partition a worker reads:

* :func:`next_commit` — which offset may be committed? Only the end of a run of
  processed offsets that starts at the committed one, so a reading is never marked
  done before some worker has handled it.
* :class:`HandedOver` — may a fetched record be skipped? Only when the same offset
  was handed to the streams *since the partition was last sought*. A record handed
  over before a seek may have been dropped by the streams (a rebalance clears their
  buffers; a stream skips events of an old generation), so after a seek every
  offset is handed over again, at the cost of a duplicate at worst. Faust's own
  drain loop skipped every offset below "the last offset delivered", a position it
  kept writing while a seek to the committed offsets was still running: a record
  refetched after the seek fell below it and was dropped for good (issue 9).
* :class:`StallWatch` — is a partition stuck? Its committed offset has not moved
  for ``after_s`` although records wait behind it, and the record at that offset
  is neither processed, nor being processed, nor waiting in a stream's buffer:
  nothing will ever process it unless the partition is read again from there.

:meth:`HandedOver.gap` asks a fourth: may a fetched record be handed over at all?
Not when it would leave a gap: offsets below it, since the partition was last
sought (to its committed offset), never handed over. Records fetched for a
partition while it was paused were dropped, and the fetch position had moved past
them; the next record handed over then lay beyond them. The state of every key in
it moved past those records' positions, so reading them again later (the stall
watchdog) skipped them as replays: lost for the detectors (chaos T2), and read
twice after a SIGTERM (T3). Such a partition is read again from the first offset
missing instead.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterable


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
    while end < len(acked) and acked[end] <= acked[end - 1] + 1:
        end += 1
    removed = acked[:end]
    del acked[:end]
    return removed[-1] + 1, removed


class HandedOver:
    """Per partition, the run of offsets handed to the streams since its last seek.

    One contiguous run per partition is enough: a fetch after a seek starts at the
    sought offset and climbs by one. Anything this cannot vouch for is handed over
    again: a duplicate is processed twice (every hop is idempotent), a skip would
    be a loss.

    >>> h = HandedOver()
    >>> for offset in (12, 13, 14):
    ...     h.add("p0", offset)
    >>> h.seen("p0", 13), h.seen("p0", 15)
    (True, False)
    >>> h.forget(["p0"])                # a seek: nothing is vouched for any more
    >>> h.seen("p0", 13)
    False

    A record whose hand-over was still running when a seek came is not vouched for
    either: the caller adds it only if :attr:`epoch` did not move meanwhile.
    """

    __slots__ = ("_gaps", "_runs", "epoch")

    def __init__(self) -> None:
        self._runs: dict[Hashable, tuple[int, int]] = {}
        #: per partition, the first missing offset it was sought back to for a gap
        self._gaps: dict[Hashable, int] = {}
        #: Moves on at every :meth:`forget`: a hand-over that a seek overtook (the
        #: epoch changed while it ran) must not be :meth:`add`-ed afterwards.
        self.epoch = 0

    def seen(self, tp: Hashable, offset: int) -> bool:
        """Whether ``offset`` was handed over since ``tp`` was last sought."""
        run = self._runs.get(tp)
        return run is not None and run[0] <= offset < run[1]

    def gap(self, tp: Hashable, offset: int, committed: int | None) -> int | None:
        """Where ``tp`` must be read again from before ``offset`` may be handed over: the
        first offset missing since its last seek (to ``committed``), or ``None``.

        >>> h = HandedOver()
        >>> h.gap("p0", 40, committed=10)    # 10..39 never handed over: read from 10
        10
        >>> h.gap("p0", 40, committed=10)    # sought there and still 40: the log starts there
        >>> h.add("p0", 40); h.add("p0", 41)
        >>> h.gap("p0", 42, committed=10), h.gap("p0", 45, committed=10)
        (None, 42)
        >>> h.gap("p0", 7, committed=10)     # below: handed over again, at worst twice
        """
        run = self._runs.get(tp)
        first_missing = committed if run is None else run[1]
        if first_missing is None or offset <= first_missing:
            return None
        if self._gaps.get(tp) == first_missing:
            return None  # read again from there already: those offsets are not in the log
        self._gaps[tp] = first_missing
        return first_missing

    def add(self, tp: Hashable, offset: int) -> None:
        """``offset`` was just handed over (after a check that it was not ``seen``)."""
        self._gaps.pop(tp, None)
        run = self._runs.get(tp)
        if run is not None and offset == run[1]:
            self._runs[tp] = (run[0], offset + 1)
        elif run is None or not run[0] <= offset < run[1]:
            self._runs[tp] = (offset, offset + 1)

    def forget(self, tps: Iterable[Hashable] | None = None) -> None:
        """A seek (of ``tps``, or of every partition): vouch for nothing handed before."""
        self.epoch += 1
        if tps is None:
            self._runs.clear()
        else:
            for tp in tps:
                self._runs.pop(tp, None)


class StallWatch:
    """How long each partition's head offset has been stuck with nothing holding it.

    ``observe`` is called every few seconds per partition with the committed offset,
    the high-water mark and whether the record at the committed offset is *held*:
    processed and awaiting the next commit, being processed, or waiting in a
    stream's buffer. It returns for how long the same head has been stuck unheld
    while records wait behind it (0.0 when the partition is fine).

    >>> w = StallWatch()
    >>> w.observe("p0", committed=18, highwater=25, held=False, now=100.0)
    0.0
    >>> w.observe("p0", committed=18, highwater=26, held=False, now=130.0)
    30.0
    >>> w.observe("p0", committed=18, highwater=26, held=True, now=131.0)   # it turned up
    0.0
    """

    __slots__ = ("_since",)

    def __init__(self) -> None:
        self._since: dict[Hashable, tuple[int, float]] = {}

    def observe(
        self,
        tp: Hashable,
        *,
        committed: int | None,
        highwater: int | None,
        held: bool,
        now: float,
    ) -> float:
        if committed is None or highwater is None or committed >= highwater or held:
            self._since.pop(tp, None)
            return 0.0
        since = self._since.get(tp)
        if since is None or since[0] != committed:
            self._since[tp] = (committed, now)
            return 0.0
        return now - since[1]

    def stuck(self, now: float) -> dict[Hashable, float]:
        """Seconds stuck, per partition currently stuck (for the metric)."""
        return {tp: now - since for tp, (_, since) in self._since.items()}

    def forget(self, tps: Iterable[Hashable] | None = None) -> None:
        if tps is None:
            self._since.clear()
        else:
            for tp in tps:
                self._since.pop(tp, None)
