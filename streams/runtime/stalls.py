"""The stall watchdog's look at a consumer: which source partitions' heads are stuck.

Where this sits: under every agent, between Kafka and the first hop of the flow
(reading → signal → alert → order → notification), beside the drain loop of
:mod:`streams.runtime.consumer`. Every few seconds it asks, for each source
partition, whether the record at its committed offset is *held*: processed and
awaiting the next commit, being processed, or waiting in a stream's buffer.
A head stuck unheld for long with records waiting behind it will never be
processed unless the partition is read again from there
(:class:`~streams.runtime.offsets.StallWatch` keeps the clock; the consumer
seeks). A partition whose committed offset is not known at all (a seek that failed
to learn it) is found too, and read from its group's commit or its start.
Nothing is judged while a rebalance or a recovery is under way.

A table recovery has a look of its own (:func:`stalled_recoveries`): a changelog
partition being restored whose recovery offset has not moved for ``stall_after_s``
while records remain before its highwater would keep the worker recovering forever
(seen once in CI, a worker joining and leaving every 30 s: every partition-1
changelog waited two minutes with nothing fetched). It is read again from its
recovery offset: its records are last-value writes, so reading some twice changes
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from aiokafka.errors import KafkaError
from faust.types import TP

log = logging.getLogger(__name__)


def settled(consumer: Any) -> bool:
    """Whether the flow runs: no rebalance, no table recovery under way."""
    app = consumer.app
    recovery = getattr(app.tables, "recovery", None)
    return bool(
        not app.rebalancing
        and consumer.flow_active
        and app.flow_control.is_active()
        and (recovery is None or recovery.completed.is_set())
    )


def unknown_starts(consumer: Any, since: dict[TP, float], now: float) -> list[TP]:
    """Source partitions whose committed offset has been unknown for ``stall_after_s``.

    The offsets of a partition are committed only from its known start, and the
    watchdog judges only a known head: a partition whose start a seek failed to
    learn (its leader moving, in a broker failover) would never be committed nor
    judged. ``since`` keeps when each was first seen unknown (cleared otherwise).
    """
    if not settled(consumer):
        since.clear()
        return []
    acking = consumer.app.topics.acks_enabled_for
    after_s = consumer.transport.stall_after_s
    unknown = {
        tp
        for tp in consumer.assignment()
        if acking(tp.topic) and consumer._committed_offset.get(tp) is None
    }
    for tp in set(since) - unknown:
        del since[tp]
    for tp in unknown:
        since.setdefault(tp, now)
    return sorted(tp for tp in unknown if now - since[tp] >= after_s)


async def learn_start(consumer: Any, tp: TP) -> int | None:
    """Where to read ``tp`` from when its start was never learnt: its group's commit,
    else its log's start; recorded as its committed offset. ``None`` if the broker
    cannot say now (asked again at the next look)."""
    thread = consumer._thread
    try:
        committed = await thread.call_thread(thread._ensure_consumer().committed, tp)
        start = committed if isinstance(committed, int) and committed >= 0 else None
        if start is None:
            start = (await consumer.earliest_offsets(tp)).get(tp)
    except KafkaError as exc:
        log.warning("%s[%d]: its start is unknown and the broker did not say: %s", *tp, exc)
        return None
    if start is None or consumer._committed_offset.get(tp) is not None:
        return None
    log.warning(
        "%s[%d]: where to read from was never learnt: reading it again from offset %d",
        *(tp.topic, tp.partition, start),
    )
    consumer._unknown_since.pop(tp, None)
    consumer._committed_offset[tp] = start
    return int(start)


def stuck_heads(consumer: Any, now: float) -> dict[TP, tuple[int, float]]:
    """Per source partition stuck at least ``stall_after_s``: its committed offset and
    for how long (seconds) it has been stuck. ``consumer``: a strict-offset consumer."""
    app = consumer.app
    if not settled(consumer):
        consumer._stalls.forget()
        return {}
    acking = app.topics.acks_enabled_for
    after_s = consumer.transport.stall_after_s
    stuck: dict[TP, tuple[int, float]] = {}
    for tp in consumer.assignment():
        if not acking(tp.topic):
            continue
        committed = consumer._committed_offset.get(tp)
        seconds = consumer._stalls.observe(
            tp,
            committed=committed,
            highwater=consumer.highwater(tp),
            held=committed is not None and holds(consumer, tp, committed),
            now=now,
        )
        if committed is not None and seconds >= after_s:
            stuck[tp] = (committed, seconds)
    return stuck


def holds(consumer: Any, tp: TP, offset: int) -> bool:
    """Whether the record at ``offset`` is processed, being processed or buffered."""
    if offset in consumer._acked_index.get(tp, ()):
        return True
    if any(m.tp == tp and m.offset == offset for m in list(consumer._unacked_messages)):
        return True
    return any(
        e.message.tp == tp and e.message.offset == offset for e in _buffered(consumer.app, tp)
    )


def _buffered(app: Any, tp: TP) -> Iterator[Any]:
    """Events waiting in the buffers of the streams that read ``tp``'s topic."""
    channels: Iterable[Any] = app.topics._topic_name_index.get(tp.topic, ())
    for channel in list(channels):
        queue = getattr(channel, "queue", None)
        yield from list(getattr(queue, "_queue", ()))


def restoring(app: Any) -> Any:
    """The table recovery while it restores (the flow resumed to fetch the changelogs,
    not yet done), else ``None``."""
    recovery = getattr(app.tables, "recovery", None)
    if recovery is None or not recovery.in_recovery or recovery.signal_recovery_end.is_set():
        return None
    if app.rebalancing or not app.flow_control.is_active():
        return None  # still seeking (or a new rebalance): not fetching yet
    return recovery


def stalled_recoveries(
    consumer: Any, since: dict[TP, tuple[int, float]], now: float
) -> dict[TP, tuple[int, float]]:
    """Per changelog partition under active recovery with records still to read, whose
    recovery offset has not moved for ``stall_after_s``: that offset and for how long.
    ``since`` keeps each partition's offset and when it was first seen there."""
    recovery = restoring(consumer.app)
    if recovery is None or not consumer.flow_active:
        since.clear()
        return {}
    offsets = recovery.active_offsets
    remaining = {tp for tp, left in recovery.active_remaining().items() if left > 0}
    for tp in set(since) - remaining:
        del since[tp]
    after_s = consumer.transport.stall_after_s
    stalled: dict[TP, tuple[int, float]] = {}
    for tp in sorted(remaining):
        offset = offsets.get(tp)
        if offset is None:
            continue
        seen = since.get(tp)
        if seen is None or seen[0] != offset:
            since[tp] = (offset, now)
        elif now - seen[1] >= after_s:
            stalled[tp] = (offset, now - seen[1])
    return stalled


async def read_stalled_recoveries_again(consumer: Any, now: float) -> list[TP]:
    """Read every changelog partition whose recovery stalled again from its recovery
    offset (resumed first, should it have been left paused); the partitions."""
    stalled = stalled_recoveries(consumer, consumer._restoring_since, now)
    for tp, (offset, seconds) in stalled.items():
        log.warning(
            "%s[%d]: table recovery stalled at offset %d for %.0f s with records left: "
            "reading its changelog again from there",
            *(tp.topic, tp.partition, offset, seconds),
        )
        del consumer._restoring_since[tp]
    if stalled:
        consumer.resume_partitions(stalled)
        await consumer.seek_wait({tp: max(offset, 0) for tp, (offset, _) in stalled.items()})
    return sorted(stalled)
