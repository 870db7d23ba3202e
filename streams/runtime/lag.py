"""Consumer gauges read at scrape time: lag, committed offsets and stuck partitions.

Where this sits: beside every source topic of the flow, for SREs. Each gauge is
read from the worker's consumer when Prometheus scrapes (never stale, never a
second source of truth); partitions not yet fetched from or never committed are
left out rather than guessed, and changelog partitions are not source topics.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator

import faust

from streams.runtime.metrics import Metrics


def watch_consumer(metrics: Metrics, app: faust.App, names: dict[str, str]) -> None:
    """Register the consumer gauges; ``names`` maps physical topic names to registry names."""
    metrics.collect_from(
        "yujing_consumer_lag_messages",
        "Messages on a source partition assigned to this worker not yet processed and "
        "committed: the consumer's highwater minus its committed offset.",
        ["topic", "partition"],
        functools.partial(_consumer_lag, app, names),
    )
    metrics.collect_from(
        "yujing_committed_offset",
        "The offset this worker last committed on an assigned source partition (the next "
        "record to process there). Unchanged while lag > 0 means the partition is stuck.",
        ["topic", "partition"],
        functools.partial(_committed_offsets, app, names),
    )
    metrics.collect_from(
        "yujing_offset_stalled_seconds",
        "Seconds a source partition's committed offset has gone without anything processing "
        "or buffering its record while records wait behind it (the worker re-reads it after "
        "YUJING_STALL_AFTER_S).",
        ["topic", "partition"],
        functools.partial(_stalled_seconds, app, names),
    )


def _committed_offsets(
    app: faust.App, names: dict[str, str]
) -> Iterator[tuple[tuple[str, str], float]]:
    consumer = app._consumer  # never create one from a scrape
    if consumer is None:
        return
    committed = consumer._committed_offset  # type: ignore[attr-defined]
    for tp in sorted(consumer.assignment()):
        name = names.get(tp.topic)
        done = committed.get(tp)
        if name is not None and done is not None:
            yield (name, str(tp.partition)), float(done)


def _stalled_seconds(
    app: faust.App, names: dict[str, str]
) -> Iterator[tuple[tuple[str, str], float]]:
    consumer = app._consumer
    if consumer is None or not hasattr(consumer, "stalled_seconds"):
        return
    for tp, seconds in sorted(consumer.stalled_seconds(time.monotonic()).items()):
        name = names.get(tp.topic)
        if name is not None:
            yield (name, str(tp.partition)), seconds


def _consumer_lag(app: faust.App, names: dict[str, str]) -> Iterator[tuple[tuple[str, str], float]]:
    """(registry topic, partition) → highwater - committed offset, per assigned partition.

    Partitions not yet fetched from (no highwater) or never committed are left out
    rather than guessed. Changelog partitions are not source topics: left out too.
    """
    consumer = app._consumer  # never create one from a scrape
    if consumer is None:
        return
    committed = consumer._committed_offset  # type: ignore[attr-defined]
    for tp in sorted(consumer.assignment()):
        name = names.get(tp.topic)
        if name is None:
            continue
        highwater = consumer.highwater(tp)
        done = committed.get(tp)
        if highwater is None or done is None:
            continue
        yield (name, str(tp.partition)), float(max(0, highwater - done))
