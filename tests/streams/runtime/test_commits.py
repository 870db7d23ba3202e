"""Tests of the consumer's commit side (streams.runtime.commits), without a broker.

The consumer is the pipeline's own; only what Kafka answers is replaced: whether
the group took a commit, what the group has committed, where a log starts. The
scenario is chaos T4's: a record processed, its commit failing because the group
rebalanced under it, the partition assigned again to the same worker and the
record refetched. On a partition the group never committed, Faust alone kept the
failed commit's offset as committed, ignored the refetched record's ack and never
committed the partition.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from streams.runtime.app import create_pipeline
from streams.runtime.commits import CommittingConsumer
from streams.runtime.settings import Settings

WATCH = TP("yujing.disposal-watch.v1", 1)


def _app(tmp_path: Path) -> Any:
    app = create_pipeline(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path)).app
    app.topics._acking_topics.add(WATCH.topic)  # as after the agents subscribed
    return app


def _stand_in(consumer: Any, *, group_takes: bool, group_has: int | None = None) -> list[Any]:
    """Answer for Kafka: whether the group takes a commit, what it has committed for
    ``WATCH``, where its log starts (0). Returns the seeks, as (partition, offset)."""
    seeks: list[Any] = []

    async def flush() -> None:
        return None

    async def commit(offsets: Any) -> bool:
        return group_takes

    async def seek_to_committed() -> dict[TP, int | None]:
        return {WATCH: group_has}

    async def earliest_offsets(*tps: TP) -> dict[TP, int]:
        return {tp: 0 for tp in tps}

    async def seek(tp: TP, offset: int) -> None:
        seeks.append((tp, offset))

    consumer.app.producer = SimpleNamespace(flush=flush)
    consumer._commit = commit
    consumer.seek_to_committed = seek_to_committed
    consumer.earliest_offsets = earliest_offsets
    consumer._seek = seek
    consumer.assignment = lambda: {WATCH}
    return seeks


class _Message(SimpleNamespace):
    """A processed record, as the consumer's ack sees it (weakly referenced, hashed)."""

    __hash__ = object.__hash__


def _ack(consumer: Any, offset: int) -> bool:
    message = _Message(acked=False, tp=WATCH, offset=offset, topic=WATCH.topic)
    return bool(consumer.ack(message))


def _t4(consumer: Any) -> dict[TP, int]:
    """Record 0 processed; its commit fails as the group rebalances; the partition comes
    back to this worker, is sought and record 0 refetched and processed again. The
    offsets committable at the end."""

    async def run() -> dict[TP, int]:
        await consumer.perform_seek()  # the first assignment: nothing committed, read from 0
        assert consumer._committed_offset[WATCH] == 0
        assert _ack(consumer, 0)
        offsets = consumer._filter_committable_offsets([WATCH])
        assert offsets == {WATCH: 1}
        # the revoke (Faust's own step) clears the partition's state ...
        consumer._acked.pop(WATCH, None)
        consumer._acked_index.pop(WATCH, None)
        consumer._committed_offset.pop(WATCH, None)
        # ... and the commit that was under way fails afterwards
        assert not await consumer._commit_offsets(offsets)
        await consumer.perform_seek()  # assigned again; the group has nothing committed
        _ack(consumer, 0)  # the refetched record, processed again
        return dict(consumer._filter_committable_offsets([WATCH]))

    return asyncio.run(run())


def test_the_pipeline_commits_through_the_committing_consumer(tmp_path: Path) -> None:
    assert isinstance(_app(tmp_path).consumer, CommittingConsumer)


def test_a_failed_commit_leaves_the_offsets_unknown(tmp_path: Path) -> None:
    consumer = _app(tmp_path).consumer
    _stand_in(consumer, group_takes=False)
    consumer._committed_offset[WATCH] = 3
    assert not asyncio.run(consumer._commit_offsets({WATCH: 7}))
    assert consumer._committed_offset[WATCH] is None


def test_a_commit_the_group_took_is_believed(tmp_path: Path) -> None:
    consumer = _app(tmp_path).consumer
    _stand_in(consumer, group_takes=True)
    consumer._committed_offset[WATCH] = 3
    assert asyncio.run(consumer._commit_offsets({WATCH: 7}))
    assert consumer._committed_offset[WATCH] == 7


def test_a_seek_learns_the_committed_offsets_from_the_group_afresh(tmp_path: Path) -> None:
    consumer = _app(tmp_path).consumer
    seeks = _stand_in(consumer, group_takes=True, group_has=None)
    consumer._committed_offset[WATCH] = 5  # believed, but the group has nothing
    asyncio.run(consumer.perform_seek())
    assert consumer._committed_offset[WATCH] == 0
    assert (WATCH, 0) in seeks


def test_a_seek_takes_the_groups_commit_where_it_has_one(tmp_path: Path) -> None:
    consumer = _app(tmp_path).consumer
    seeks = _stand_in(consumer, group_takes=True, group_has=4)
    consumer._committed_offset[WATCH] = 9
    asyncio.run(consumer.perform_seek())
    assert consumer._committed_offset[WATCH] == 4
    assert seeks == []  # the group's seek_to_committed put it there


def test_a_record_whose_commit_failed_in_a_rebalance_is_committed_after_it(
    tmp_path: Path,
) -> None:
    consumer = _app(tmp_path).consumer
    _stand_in(consumer, group_takes=False)
    assert _t4(consumer) == {WATCH: 1}


def test_faust_alone_believes_a_failed_commit_and_never_commits_the_partition(
    tmp_path: Path,
) -> None:
    # Pins the upstream behaviour streams.runtime.commits exists for: if this starts
    # failing, faust-streaming changed and the forgetting may be dropped.
    app = _app(tmp_path)

    def ignore(*_: Any) -> None:
        return None

    plain = faust_aiokafka.Consumer(
        app.transport, callback=ignore, on_partitions_revoked=ignore, on_partitions_assigned=ignore
    )
    _stand_in(plain, group_takes=False)
    plain._committed_offset[WATCH] = 0  # where ours starts it (Faust leaves it unknown)
    assert _t4(plain) == {}
