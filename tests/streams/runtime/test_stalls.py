"""Tests of the stall watchdog's look (streams.runtime.stalls), without a broker.

The consumer is a stand-in carrying only what the look reads: the flow's state,
the assignment, the committed offsets and the broker's answers.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aiokafka.errors import KafkaTimeoutError
from faust.types import TP

from streams.runtime.stalls import (
    learn_start,
    read_stalled_recoveries_again,
    stalled_recoveries,
    unknown_starts,
)

WATCH = TP("yujing.disposal-watch.v1", 1)
READS = TP("yujing.readings.v1", 0)


def _consumer(committed: dict[TP, int | None], group: int | None = None, earliest: int = 0) -> Any:
    """A stand-in consumer whose flow runs; ``group``: the broker's committed offset."""

    def ask_group(tp: TP) -> int | None:
        if group == -2:
            raise KafkaTimeoutError()
        return group

    async def call_thread(fn: Any, *args: Any) -> Any:
        return fn(*args)

    async def earliest_offsets(*tps: TP) -> dict[TP, int]:
        return {tp: earliest for tp in tps}

    app = SimpleNamespace(
        rebalancing=False,
        flow_control=SimpleNamespace(is_active=lambda: True),
        tables=SimpleNamespace(recovery=None),
        topics=SimpleNamespace(acks_enabled_for=lambda topic: True),
    )
    return SimpleNamespace(
        app=app,
        flow_active=True,
        transport=SimpleNamespace(stall_after_s=5.0),
        assignment=lambda: set(committed),
        _committed_offset=dict(committed),
        _unknown_since={},
        _thread=SimpleNamespace(
            call_thread=call_thread,
            _ensure_consumer=lambda: SimpleNamespace(committed=ask_group),
        ),
        earliest_offsets=earliest_offsets,
    )


def test_a_partition_whose_start_stays_unknown_is_found_after_the_stall_time() -> None:
    consumer = _consumer({WATCH: None, READS: 40})
    since = consumer._unknown_since
    assert unknown_starts(consumer, since, now=100.0) == []
    assert unknown_starts(consumer, since, now=104.0) == []
    assert unknown_starts(consumer, since, now=105.0) == [WATCH]


def test_a_start_learnt_meanwhile_or_a_rebalance_resets_the_clock() -> None:
    consumer = _consumer({WATCH: None})
    since = consumer._unknown_since
    unknown_starts(consumer, since, now=100.0)
    consumer._committed_offset[WATCH] = 0  # the next seek learnt it
    assert unknown_starts(consumer, since, now=110.0) == []
    consumer._committed_offset[WATCH] = None
    unknown_starts(consumer, since, now=111.0)
    consumer.app.rebalancing = True
    assert unknown_starts(consumer, since, now=200.0) == []
    consumer.app.rebalancing = False
    assert unknown_starts(consumer, since, now=201.0) == []  # counted afresh


def test_the_start_learnt_is_the_groups_commit_else_the_logs_start() -> None:
    committed = _consumer({WATCH: None}, group=7, earliest=3)
    assert asyncio.run(learn_start(committed, WATCH)) == 7
    assert committed._committed_offset[WATCH] == 7
    never = _consumer({WATCH: None}, group=None, earliest=3)
    assert asyncio.run(learn_start(never, WATCH)) == 3
    assert never._committed_offset[WATCH] == 3


def test_a_broker_that_cannot_say_leaves_it_for_the_next_look() -> None:
    consumer = _consumer({WATCH: None}, group=-2)
    assert asyncio.run(learn_start(consumer, WATCH)) is None
    assert consumer._committed_offset[WATCH] is None


CHANGELOG = TP("yujing-orders-changelog", 1)


def _restoring(offset: int, highwater: int) -> Any:
    """A stand-in consumer whose worker restores ``CHANGELOG`` (at ``offset`` of
    ``highwater``), its flow resumed to fetch it; it records resumes and seeks."""
    recovery = SimpleNamespace(
        in_recovery=True,
        signal_recovery_end=asyncio.Event(),
        active_offsets={CHANGELOG: offset},
        active_remaining=lambda: {CHANGELOG: highwater - recovery.active_offsets[CHANGELOG]},
    )
    app = SimpleNamespace(
        rebalancing=False,
        flow_control=SimpleNamespace(is_active=lambda: True),
        tables=SimpleNamespace(recovery=recovery),
    )
    done: list[Any] = []

    async def seek_wait(offsets: dict[TP, int]) -> None:
        done.append(("seek", offsets))

    return SimpleNamespace(
        app=app,
        flow_active=True,
        transport=SimpleNamespace(stall_after_s=5.0),
        _restoring_since={},
        resume_partitions=lambda tps: done.append(("resume", set(tps))),
        seek_wait=seek_wait,
        done=done,
    )


def test_a_recovery_whose_offset_stays_put_is_read_again_from_it() -> None:
    consumer = _restoring(offset=-1, highwater=120)
    assert asyncio.run(read_stalled_recoveries_again(consumer, now=100.0)) == []
    assert asyncio.run(read_stalled_recoveries_again(consumer, now=104.0)) == []
    assert asyncio.run(read_stalled_recoveries_again(consumer, now=105.0)) == [CHANGELOG]
    assert consumer.done == [("resume", {CHANGELOG}), ("seek", {CHANGELOG: 0})]
    # the clock starts again from the re-read
    assert asyncio.run(read_stalled_recoveries_again(consumer, now=106.0)) == []


def test_a_recovery_that_moves_or_is_done_is_left_alone() -> None:
    consumer = _restoring(offset=10, highwater=120)
    since = consumer._restoring_since
    recovery = consumer.app.tables.recovery
    assert stalled_recoveries(consumer, since, now=100.0) == {}
    recovery.active_offsets[CHANGELOG] = 60  # records arrived
    assert stalled_recoveries(consumer, since, now=105.0) == {}
    assert stalled_recoveries(consumer, since, now=109.0) == {}
    assert stalled_recoveries(consumer, since, now=110.0) == {CHANGELOG: (60, 5.0)}
    recovery.active_offsets[CHANGELOG] = 120  # nothing left before the highwater
    assert stalled_recoveries(consumer, since, now=200.0) == {}
    assert since == {}


def test_nothing_is_judged_while_the_recovery_seeks_or_after_it_ends() -> None:
    consumer = _restoring(offset=10, highwater=120)
    since = consumer._restoring_since
    stalled_recoveries(consumer, since, now=100.0)
    consumer.app.rebalancing = True  # a new rebalance: its recovery seeks first
    assert stalled_recoveries(consumer, since, now=200.0) == {}
    consumer.app.rebalancing = False
    assert stalled_recoveries(consumer, since, now=201.0) == {}  # counted afresh
    consumer.app.tables.recovery.signal_recovery_end.set()
    assert stalled_recoveries(consumer, since, now=300.0) == {}
    assert consumer.done == []
