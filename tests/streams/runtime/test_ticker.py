"""The ticker (runtime/ticker.py), broker-free: one tick per partition, keyed as the registry says.

SLA deadlines are checked on ticks: a partition without its tick never publishes its
breaches, and a tick keyed otherwise than by its ``partition`` field would be
dead-lettered by the wiring (``wrong_key``) instead of driving the tracker.
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime

import faust
from recording_topic import RecordingTopic

from schemas import Tick
from schemas.codec import decode
from schemas.registry import TICKS
from streams.runtime.ticker import start_ticker

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_every_partition_gets_a_tick_keyed_by_its_partition_at_the_clocks_time() -> None:
    app = faust.App("ticker-test")
    ticks = RecordingTopic(TICKS.name)
    start_ticker(app, ticks, partitions=3, interval_s=0.5, clock=lambda: T0)
    [timer] = app._app_tasks  # one timer, started with the worker
    asyncio.run(inspect.unwrap(timer)())  # one round: the timer's own function
    assert [s.partition for s in ticks.sent] == [0, 1, 2]
    for s in ticks.sent:
        tick = decode(Tick, s.value)
        assert tick.event_time == T0
        assert s.key == TICKS.key_of(tick) == str(s.partition).encode()
