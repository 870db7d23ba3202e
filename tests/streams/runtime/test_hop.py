"""One hop (runtime/hop.py): a handler's outputs published, its state committed; failures
dead-lettered.

Broker-free: the topics record what is sent and the test acknowledges it. What
matters to operators: an exception in the core never loses the event (it becomes a
dead letter with the original bytes and the stream goes on), in ``detect`` (in
flight) the next event does not wait for the broker, in the later hops the state
moves on only once the broker has every output, and the stage's latency and
dead-letter metrics carry bounded labels. That in-flight state reaches a changelog
only after its outputs reach the broker is the checkpoint's (``test_checkpoint.py``).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry
from recording_topic import RecordingTopic, recording_topics

from schemas import DeadLetter, DeadLetterReason
from schemas.codec import decode
from schemas.registry import ALERTS, DEAD_LETTERS, SIGNALS
from streams.runtime.agent import Result, Source
from streams.runtime.checkpoint import Checkpoint
from streams.runtime.hop import Hop
from streams.runtime.metrics import Metrics
from streams.runtime.publish import Publisher
from tests.lib.alerts import gas_alert

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SRC = Source("qa.yujing.signals.v1", 0, 9)
RAW = b'{"signal": "the original bytes"}'
ALERT = gas_alert(T0, level="high")  # frozen: one for every test


class World:
    def __init__(self, handler: Callable[..., Any], auto_ack: bool = True) -> None:
        self.registry = CollectorRegistry()
        self.topics: dict[str, RecordingTopic] = recording_topics(auto_ack)
        metrics = Metrics(self.registry)
        self.checkpoint = Checkpoint(Publisher(self.topics, metrics))
        self.hop = Hop(
            "raise_alerts", SIGNALS.name, handler, self.checkpoint, metrics, lambda: T0, 16
        )

    def run(self) -> None:
        async def run() -> None:
            await self.hop.run(ALERT, SRC, b"sig-1", RAW)
            await self.checkpoint.settle()

        asyncio.run(run())

    def dead_letters(self) -> list[DeadLetter]:
        return [decode(DeadLetter, s.value) for s in self.topics[DEAD_LETTERS.name].sent]

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


def test_outputs_are_published_and_then_the_state_is_committed() -> None:
    commits: list[str] = []
    world = World(lambda model, src: Result([ALERT], commit=lambda: commits.append("c")))
    world.run()
    assert [s.key for s in world.topics[ALERTS.name].sent] == [b"alert-1"]
    assert commits == ["c"] and world.dead_letters() == []
    assert world.sample("yujing_stage_seconds_count", stage="raise_alerts") == 1


def test_in_flight_the_next_event_does_not_wait_for_the_broker() -> None:
    commits: list[str] = []
    world = World(
        lambda model, src: Result([ALERT], commit=lambda: commits.append("c")),
        auto_ack=False,
    )

    async def run() -> None:
        for _ in range(2):  # each returns with its output in flight, its state moved on
            await world.hop.run(ALERT, SRC, b"sig-1", RAW)
        assert commits == ["c", "c"] and world.checkpoint.in_flight == 2
        world.topics[ALERTS.name].ack()
        await world.checkpoint.settle()
        assert world.checkpoint.in_flight == 0

    asyncio.run(run())


def test_a_hop_not_in_flight_commits_only_once_the_broker_has_every_output() -> None:
    commits: list[str] = []
    world = World(
        lambda model, src: Result([ALERT], commit=lambda: commits.append("c")),
        auto_ack=False,
    )
    world.hop.in_flight = False  # a later hop: an order, a breach must not be published twice

    async def run() -> None:
        hop = asyncio.ensure_future(world.hop.run(ALERT, SRC, b"sig-1", RAW))
        while not world.topics[ALERTS.name].sent:
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert commits == [] and not hop.done()  # sent, not acknowledged: nothing moves on
        world.topics[ALERTS.name].ack()
        await hop
        assert world.checkpoint.in_flight == 0

    asyncio.run(run())
    assert commits == ["c"]


def test_a_failing_handler_becomes_a_dead_letter_and_the_stream_goes_on() -> None:
    def broken(model: Any, src: Source) -> Result:
        raise ZeroDivisionError("baseline of zero")

    world = World(broken)
    world.run()  # does not raise: an exception escaping the agent would ack and lose it
    [dl] = world.dead_letters()
    assert dl.reason is DeadLetterReason.PROCESSING_ERROR
    assert dl.detail == "ZeroDivisionError: baseline of zero"
    assert (dl.source_topic, dl.partition, dl.offset, dl.stage) == (
        SRC.topic,
        0,
        9,
        "raise_alerts",
    )
    assert base64.b64decode(dl.payload_b64) == RAW[:16] and dl.payload_size == len(RAW)
    assert dl.event_time == T0
    assert world.topics[ALERTS.name].sent == []
    labels = {"reason": "processing_error", "topic": SIGNALS.name}  # registry name: bounded
    assert world.sample("yujing_dead_letters_total", **labels) == 1


def test_an_async_handler_and_a_dead_letter_verdict_with_outputs() -> None:
    commits: list[str] = []

    async def handler(model: Any, src: Source) -> Result:
        return Result(
            [ALERT],
            commit=lambda: commits.append("c"),
            dead_letter=(DeadLetterReason.LATE, "behind its place's newest"),
        )

    world = World(handler)
    world.run()
    [dl] = world.dead_letters()
    assert (dl.reason, dl.detail) == (DeadLetterReason.LATE, "behind its place's newest")
    assert len(world.topics[ALERTS.name].sent) == 1  # e.g. its single alert was raised anyway
    assert commits == ["c"]
    assert world.sample("yujing_dead_letters_total", reason="late", topic=SIGNALS.name) == 1
