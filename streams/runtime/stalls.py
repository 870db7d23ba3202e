"""The stall watchdog's look at a consumer: which source partitions' heads are stuck.

Where this sits: under every agent, between Kafka and the first hop of the flow
(reading → signal → alert → order → notification), beside the drain loop of
:mod:`streams.runtime.consumer`. Every few seconds it asks, for each source
partition, whether the record at its committed offset is *held*: processed and
awaiting the next commit, being processed, or waiting in a stream's buffer.
A head stuck unheld for long with records waiting behind it will never be
processed unless the partition is read again from there
(:class:`~streams.runtime.offsets.StallWatch` keeps the clock; the consumer
seeks). Nothing is judged while a rebalance or a recovery is under way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from faust.types import TP


def stuck_heads(consumer: Any, now: float) -> dict[TP, tuple[int, float]]:
    """Per source partition stuck at least ``stall_after_s``: its committed offset and
    for how long (seconds) it has been stuck. ``consumer``: a strict-offset consumer."""
    app = consumer.app
    recovery = getattr(app.tables, "recovery", None)
    settled = (
        not app.rebalancing
        and consumer.flow_active
        and app.flow_control.is_active()
        and (recovery is None or recovery.completed.is_set())
    )
    if not settled:
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
