"""Tests of streams.runtime.offsets: commits never run past an unprocessed offset.

No broker: the consumers are built but never started. The rebalance scenario on
the real broker is tests/streams/test_rebalance.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from hypothesis import given
from hypothesis import strategies as st

from streams.runtime.app import create_pipeline
from streams.runtime.consumer import StrictOffsetConsumer
from streams.runtime.offsets import next_commit
from streams.runtime.settings import Settings

TP1 = TP("yujing.readings.v1", 1)


@given(
    st.sets(st.integers(min_value=0, max_value=60), max_size=40),
    st.one_of(st.none(), st.integers(min_value=0, max_value=60)),
)
def test_next_commit_never_passes_an_unacknowledged_offset(
    acked: set[int], committed: int | None
) -> None:
    remaining = sorted(acked, reverse=True)
    offset, removed = next_commit(remaining, committed)
    if offset is None:
        assert committed is None or committed not in acked
    else:
        assert committed is not None
        # every offset from the committed one up to the new one was acknowledged
        assert set(range(committed, offset)) <= acked
        assert offset not in acked
    assert sorted(removed + remaining) == sorted(acked)
    assert remaining == sorted(remaining)
    if committed is not None:
        assert all(o >= committed for o in remaining)


def _pipeline(tmp_path: Path) -> Any:
    return create_pipeline(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path))


def _after_a_cleared_buffer(consumer: Any) -> int | None:
    """What a rebalance left (measured): 4,988 committed, 4,988..7,664 processed,
    then the fetcher jumped to 9,056; 7,665..9,055 never reached an agent."""

    async def run() -> int | None:
        consumer._committed_offset[TP1] = 4988
        consumer._acked[TP1].extend(range(4988, 7665))
        consumer._acked_index[TP1].update(range(4988, 7665))
        await consumer._add_gap(TP1, 7665, 9056)
        consumer._acked[TP1].append(9056)
        consumer._acked_index[TP1].add(9056)
        return consumer._new_offset(TP1)  # type: ignore[no-any-return]

    return asyncio.run(run())


def test_the_pipeline_consumes_with_strict_offsets(tmp_path: Path) -> None:
    assert isinstance(_pipeline(tmp_path).app.consumer, StrictOffsetConsumer)


def test_a_jump_in_fetched_offsets_is_not_committed(tmp_path: Path) -> None:
    assert _after_a_cleared_buffer(_pipeline(tmp_path).app.consumer) == 7665


def test_faust_alone_commits_over_the_jump(tmp_path: Path) -> None:
    # Pins the upstream behaviour streams.runtime.offsets exists for: if this starts
    # failing, faust-streaming changed and StrictOffsetConsumer may be dropped.
    app = _pipeline(tmp_path).app

    def ignore(*_: Any) -> None:
        return None

    plain = faust_aiokafka.Consumer(
        app.transport,
        callback=ignore,
        on_partitions_revoked=ignore,
        on_partitions_assigned=ignore,
    )
    assert _after_a_cleared_buffer(plain) == 9057
