"""Tests of the drain loop (streams.runtime.consumer) and its bookkeeping, without a broker.

The drain loop runs for real over scripted fetches: what Kafka returns is
replaced, what the loop decides is not. The scenario is the one behind issue 9:
a batch fetched before a seek to the committed offsets is still being handed
over while the seek runs; the records refetched after it must all be handed
over again, because the first copies may have been dropped by the streams.
The restart, rebalance and in-flight scenarios on the real broker are in
tests/streams/test_restart_loss.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from hypothesis import given
from hypothesis import strategies as st
from mode.utils.locks import Event

from streams.runtime.app import create_pipeline
from streams.runtime.consumer import StrictOffsetConsumer
from streams.runtime.offsets import HandedOver, StallWatch
from streams.runtime.settings import Settings

TP1 = TP("yujing.readings.v1", 1)
COMMITTED = 12


def _record(offset: int) -> Any:
    return SimpleNamespace(offset=offset)


def _drain(
    consumer: Any,
    batches: list[list[int]],
    seek_during: int,
    during_handover: Callable[[Any], None] | None = None,
    on_fetch: Callable[[int], Any] | None = None,
) -> list[tuple[str, int]]:
    """Run ``consumer``'s drain loop over ``batches`` (offsets of TP1); the seek to the
    committed offset runs while the first record ``seek_during`` is handed over.
    Returns what was handed over, in order, each marked "before" or "after" the seek."""
    handed: list[tuple[str, int]] = []
    phase = {"now": "before"}
    script: Iterator[list[int]] = iter(batches)
    fetcher = SimpleNamespace(_stopped=Event())

    fetches = {"n": 0}

    async def wait_next_records(timeout: float) -> tuple[Any, Any]:
        batch = next(script, None)
        if batch is None:
            fetcher._stopped.set()
            return {}, None
        if on_fetch is not None:
            on_fetch(fetches["n"])
        fetches["n"] += 1
        return ({TP1: [_record(o) for o in batch]} if batch else {}), None

    async def seek_to_committed() -> dict[TP, int]:
        return {TP1: COMMITTED}

    async def callback(message: Any) -> None:
        handed.append((phase["now"], message.offset))
        if during_handover is not None:
            during_handover(message)
        if message.offset == seek_during and phase["now"] == "before":
            await consumer.perform_seek()
            phase["now"] = "after"

    consumer.callback = callback
    consumer._wait_next_records = wait_next_records
    consumer._to_message = lambda tp, record: SimpleNamespace(
        tp=tp, offset=record.offset, key=None, value=None
    )
    consumer.highwater = lambda tp: 100
    consumer.seek_to_committed = seek_to_committed
    consumer.assignment = lambda: {TP1}
    consumer.app.flow_control.resume()
    asyncio.run(consumer._drain_messages(fetcher))
    return handed


def _pipeline(tmp_path: Path) -> Any:
    return create_pipeline(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path))


# A batch 12..14 is being handed over when the seek to 12 runs; then 12..15 is refetched.
BATCHES = [[12, 13, 14], [12, 13, 14, 15]]


def _after_seek(handed: list[tuple[str, int]]) -> set[int]:
    return {offset for phase, offset in handed if phase == "after"}


def test_every_record_from_the_committed_offset_is_handed_over_after_a_seek(
    tmp_path: Path,
) -> None:
    consumer = _pipeline(tmp_path).app.consumer
    assert isinstance(consumer, StrictOffsetConsumer)
    handed = _drain(consumer, BATCHES, seek_during=12)
    assert _after_seek(handed) == {12, 13, 14, 15}


def test_faust_alone_skips_a_refetched_record_handed_over_before_the_seek(
    tmp_path: Path,
) -> None:
    # Pins the upstream behaviour behind issue 9: Faust's loop skips the refetched 12
    # (its read offset is past it), so if the streams dropped the copy handed over
    # during the seek, 12 is never processed and the partition's commit waits forever.
    app = _pipeline(tmp_path).app

    def ignore(*_: Any) -> None:
        return None

    plain = faust_aiokafka.Consumer(
        app.transport, callback=ignore, on_partitions_revoked=ignore, on_partitions_assigned=ignore
    )

    async def hand_over(handing: Any, stopping: Any) -> None:
        # Service.wait_first of a consumer never started waits on another loop: the
        # flow never stops here, so handing over is all it would do
        stopping.close()
        await handing

    plain.wait_first = hand_over
    handed = _drain(plain, BATCHES, seek_during=12)
    assert 12 not in _after_seek(handed)


def test_a_refetched_record_handed_over_since_the_seek_is_not_handed_twice(
    tmp_path: Path,
) -> None:
    consumer = _pipeline(tmp_path).app.consumer
    # the seek ran while 11 (before the committed offset) was handed; 12..14 came after
    handed = _drain(consumer, [[11, 12, 13, 14], [14, 15]], seek_during=11)
    assert [o for phase, o in handed if phase == "after"] == [12, 13, 14, 15]


def test_source_records_fetched_during_a_rebalance_are_read_again_after_it(
    tmp_path: Path,
) -> None:
    # Faust resumes the flow (which clears the streams' buffers) only at the very end
    # of a rebalance: a record handed over before that would be lost. Waiting instead
    # would starve the recovery (it needs this loop for the changelogs), so the
    # partition is held and sought back to its committed offset once it has ended.
    consumer = _pipeline(tmp_path).app.consumer
    app = consumer.app
    app.topics._acking_topics.add(TP1.topic)  # as after the agents subscribed
    app.rebalancing = True
    consumer._committed_offset[TP1] = COMMITTED
    during: list[bool] = []
    seeks: list[dict[TP, int]] = []

    async def seek_wait(partitions: dict[TP, int]) -> None:
        seeks.append(dict(partitions))

    consumer._thread.seek_wait = seek_wait

    def end_rebalance(fetch: int) -> None:
        if fetch == 1:
            app.rebalancing = False

    handed = _drain(
        consumer,
        [[12, 13], [], [12, 13]],  # during the rebalance; after it; after the re-read
        seek_during=-1,
        on_fetch=end_rebalance,
        during_handover=lambda message: during.append(app.rebalancing),
    )
    assert seeks == [{TP1: COMMITTED}]
    assert [offset for _, offset in handed] == [12, 13]
    assert during == [False, False]


def _acking(tmp_path: Path) -> tuple[Any, list[dict[TP, int]]]:
    """A consumer reading TP1 from COMMITTED, recording its seeks instead of seeking."""
    consumer = _pipeline(tmp_path).app.consumer
    consumer.app.topics._acking_topics.add(TP1.topic)  # as after the agents subscribed
    consumer._committed_offset[TP1] = COMMITTED
    seeks: list[dict[TP, int]] = []

    async def seek_wait(partitions: dict[TP, int]) -> None:
        seeks.append(dict(partitions))

    consumer._thread.seek_wait = seek_wait
    return consumer, seeks


def test_a_record_past_offsets_never_handed_over_waits_until_they_are_read_again(
    tmp_path: Path,
) -> None:
    # Chaos T2: records 12..14 were fetched while the partition was paused and dropped,
    # and the fetch moved past them; handing 15 over first would put every sensor's
    # state past 12..14, which would then be skipped as replays when read again.
    consumer, seeks = _acking(tmp_path)
    handed = _drain(consumer, [[15, 16], [12, 13, 14, 15, 16]], seek_during=-1)
    assert seeks == [{TP1: COMMITTED}]
    assert [offset for _, offset in handed] == [12, 13, 14, 15, 16]


def test_offsets_missing_from_the_log_itself_are_read_past_after_one_look(
    tmp_path: Path,
) -> None:
    # retention deleted 12..14 (or they were transaction markers): sought back once, the
    # log still starts at 15, so 15 goes on
    consumer, seeks = _acking(tmp_path)
    handed = _drain(consumer, [[15, 16], [15, 16, 17]], seek_during=-1)
    assert seeks == [{TP1: COMMITTED}]
    assert [offset for _, offset in handed] == [15, 16, 17]


def test_a_partition_held_back_is_read_again_before_anything_of_it_is_handed_over(
    tmp_path: Path,
) -> None:
    # Chaos T3: the rebalance ended while the next fetch was on its way; handing that
    # fetch over before the held partition is read again meant reading it twice
    consumer, seeks = _acking(tmp_path)
    app = consumer.app
    app.rebalancing = True

    def end_rebalance(fetch: int) -> None:
        if fetch == 1:
            app.rebalancing = False

    handed = _drain(
        consumer, [[12, 13], [12, 13, 14], [12, 13, 14]], seek_during=-1, on_fetch=end_rebalance
    )
    assert seeks == [{TP1: COMMITTED}]
    assert [offset for _, offset in handed] == [12, 13, 14]


def test_faust_clears_the_streams_buffers_when_it_resumes_the_flow(tmp_path: Path) -> None:
    # Pins the upstream behaviour behind the hold-back above: if this fails, Faust no
    # longer drops buffered records on resume, and the hold-back may be reconsidered.
    app = _pipeline(tmp_path).app
    queue = app.FlowControlQueue(maxsize=10, clear_on_resume=True)
    queue.put_nowait("a record handed over during the seek")
    app.flow_control.resume()
    assert queue.empty()


# -- the bookkeeping ------------------------------------------------------------------

Op = tuple[str, int]


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("hand"), st.integers(min_value=0, max_value=30)),
            st.tuples(st.just("seek"), st.just(0)),
        ),
        max_size=60,
    )
)
def test_handed_over_vouches_only_for_offsets_handed_since_the_last_seek(ops: list[Op]) -> None:
    h = HandedOver()
    since_seek: set[int] = set()
    for op, offset in ops:
        if op == "seek":
            h.forget()
            since_seek.clear()
        else:
            if not h.seen("p", offset):
                h.add("p", offset)
            since_seek.add(offset)
        for o in range(32):
            if h.seen("p", o):
                assert o in since_seek, (o, ops)


def test_handed_over_forgets_one_partition_without_the_others() -> None:
    h = HandedOver()
    h.add("a", 1)
    h.add("b", 1)
    h.forget(["a"])
    assert not h.seen("a", 1) and h.seen("b", 1)


def test_stall_watch_counts_from_when_the_same_head_got_stuck() -> None:
    w = StallWatch()
    observe: Callable[..., float] = w.observe
    assert observe("p", committed=5, highwater=9, held=False, now=0.0) == 0.0
    assert observe("p", committed=5, highwater=9, held=False, now=4.0) == 4.0
    assert w.stuck(6.0) == {"p": 6.0}
    # the head moved: a new count starts
    assert observe("p", committed=6, highwater=9, held=False, now=7.0) == 0.0
    assert observe("p", committed=6, highwater=9, held=False, now=8.0) == 1.0
    # nothing behind it: not stuck
    assert observe("p", committed=9, highwater=9, held=False, now=20.0) == 0.0
    assert w.stuck(20.0) == {}
    # unknown committed offset or high-water mark: not judged
    assert observe("p", committed=None, highwater=9, held=False, now=21.0) == 0.0
    assert observe("p", committed=3, highwater=None, held=False, now=22.0) == 0.0
