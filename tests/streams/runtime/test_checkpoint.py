"""The checkpoint (runtime/checkpoint.py): outputs delivered, then state written, then offsets.

Broker-free: the topics record what is sent and the test acknowledges it; a plain
table records its changelog. What a restart relies on: no changelog holds state
whose outputs are not on the broker, no offset commits before both, a refused
output stops the worker before any of it is written, and a checkpoint never sees
half an event.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from recording_topic import recording_topics

from schemas import Alert, AlertKind
from schemas.registry import ALERTS, SIGNALS
from streams.runtime import checkpoint as checkpoint_module
from streams.runtime import publish
from streams.runtime.agent import Result, Source
from streams.runtime.checkpoint import Checkpoint
from streams.runtime.hop import Hop
from streams.runtime.metrics import Metrics
from streams.runtime.publish import Publisher
from streams.runtime.staged import Plain, StagedTable

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SRC = Source("qa.yujing.signals.v1", 0, 9)


class Exited(Exception):
    """What ``os._exit`` raises here, so the test sees the worker stop."""


def _alert(n: int) -> Alert:
    return Alert(
        event_time=T0,
        alert_id=f"alert-{n}",
        kind=AlertKind.SINGLE,
        rule_id="single",
        level="high",
        emergency=True,
        scope="restaurant-7",
        module="gas_safety",
        risk_points=["restaurant_gas_leak"],
        signal_ids=[f"sig-{n}"],
        summary="gas at restaurant-7",
    )


class World:
    """One hop whose handler raises alert ``n`` and stores ``n`` in a staged table."""

    def __init__(self, die_in_flight: int = 0) -> None:
        self.topics: dict[str, Any] = recording_topics(auto_ack=False)
        metrics = Metrics(CollectorRegistry())
        self.checkpoint = Checkpoint(Publisher(self.topics, metrics), die_in_flight)
        self.table = StagedTable(Plain(), partition=lambda key: 0)
        self.checkpoint.keep(self.table)
        self.committed: list[list[Any]] = []  # the changelog each offset commit saw

        def handler(alert: Alert, _: Source) -> Result:
            def commit() -> None:
                self.table[alert.alert_id] = alert.signal_ids

            return Result([alert], commit=commit)

        self.hop = Hop(
            "raise_alerts", SIGNALS.name, handler, self.checkpoint, metrics, lambda: T0, 64
        )

    async def event(self, n: int) -> None:
        await self.hop.run(_alert(n), SRC, f"sig-{n}".encode(), b"{}")

    def offsets(self) -> list[str]:
        """The offsets the consumer would commit: here, the keys the events stored."""
        return sorted(self.table)

    async def checkpoint_and_commit(self) -> None:
        """As the consumer does: the checkpoint, then the offsets committed."""
        await self.checkpoint.commit(self.offsets)
        self.committed.append(list(self.table.table.changelog))

    @property
    def sent(self) -> list[Any]:
        return self.topics[ALERTS.name].sent


def test_state_reaches_the_changelog_only_after_the_broker_has_every_output() -> None:
    world = World()

    async def run() -> None:
        for n in range(3):
            await world.event(n)  # no event waits for the broker
        assert len(world.sent) == 3 and world.checkpoint.in_flight == 3
        assert world.table["alert-2"] == ["sig-2"]  # the next event sees the state at once
        assert world.table.table.changelog == []  # but nothing is written yet
        commit = asyncio.ensure_future(world.checkpoint_and_commit())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not commit.done() and world.committed == [] and world.table.table.changelog == []
        world.topics[ALERTS.name].ack()
        await commit
        assert world.checkpoint.in_flight == 0
        [seen] = world.committed  # the offsets committed after the state was written
        assert [key for _, key, _ in seen] == ["alert-0", "alert-1", "alert-2"]

    asyncio.run(run())


def test_a_checkpoint_never_sees_half_an_event() -> None:
    world = World()
    release = asyncio.Event()

    async def slow(alert: Alert, _: Source) -> Result:
        await release.wait()  # an event half done: its handler is still working
        return Result([alert], commit=lambda: world.table.__setitem__(alert.alert_id, 1))

    world.hop.handler = slow

    async def run() -> None:
        event = asyncio.ensure_future(world.event(1))
        await asyncio.sleep(0)
        commit = asyncio.ensure_future(world.checkpoint_and_commit())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not commit.done()  # waits for the event at the gate
        release.set()
        await event
        world.topics[ALERTS.name].ack()
        await commit
        assert [key for _, key, _ in world.committed[0]] == ["alert-1"]
        # an event that comes while a checkpoint waits for the broker goes on; its
        # state waits for the next checkpoint
        world.hop.handler = lambda alert, _: Result(
            [alert], commit=lambda: world.table.__setitem__(alert.alert_id, 2)
        )
        await world.event(2)
        gate = asyncio.ensure_future(world.checkpoint_and_commit())
        await asyncio.sleep(0)
        await world.event(3)  # not held up
        assert not gate.done() and world.checkpoint.in_flight == 1  # event 3's output
        world.topics[ALERTS.name].ack()
        await gate
        assert [key for _, key, _ in world.committed[1]] == ["alert-1", "alert-2"]
        assert world.table["alert-3"] == 2 and world.table.staged == 1

    asyncio.run(run())


def test_a_refused_output_stops_the_worker_before_any_state_or_offset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World()

    def exit_(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(publish.os, "_exit", exit_)

    async def run() -> None:
        await world.event(1)
        world.sent[0].future.set_exception(RuntimeError("MessageSizeTooLarge"))
        with pytest.raises(Exited) as stopped:
            await world.checkpoint_and_commit()
        assert stopped.value.args == (70,)

    asyncio.run(run())
    assert world.committed == [] and world.table.table.changelog == []


def test_revoke_writes_everything_then_forgets_it() -> None:
    world = World()
    flushed: list[int] = []

    async def flush_producer() -> None:
        flushed.append(len(world.table.table.changelog))

    async def run() -> None:
        await world.event(1)
        world.topics[ALERTS.name].ack()
        await world.checkpoint.revoke(flush_producer)

    asyncio.run(run())
    assert flushed == [1]  # the producer flushed after the state was written
    assert world.table.staged == 0 and world.table.table.data == {"alert-1": ["sig-1"]}


def test_the_failpoint_dies_with_the_outputs_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(die_in_flight=1)

    def exit_(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(checkpoint_module.os, "_exit", exit_)
    with pytest.raises(Exited):
        asyncio.run(world.event(1))
    assert len(world.sent) == 1 and not world.sent[0].future.done()
    assert world.table.table.changelog == []  # its state moved on in memory only


class SlowChangelog(Plain):
    """A table whose changelog writes are delivered only when the test says so, the way
    Faust's buffer task hands a write to the producer some time after it was made."""

    def __init__(self) -> None:
        super().__init__()
        self.futures: list[asyncio.Future[None]] = []

    def send_changelog(self, partition: int | None, key: Any, value: Any, **_: Any) -> Any:
        super().send_changelog(partition, key, value)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.futures.append(fut)
        return fut


def test_no_offset_commits_before_the_broker_has_every_changelog_write() -> None:
    """Faust's flush does not wait for a write its buffer task has taken but not yet
    handed to the producer: the checkpoint awaits each write's own delivery instead, the
    staged ones and those written through alike."""
    world = World()
    slow = SlowChangelog()
    world.table = StagedTable(slow, partition=lambda key: 0)
    through = StagedTable(slow, write_through=True)
    world.checkpoint._tables = [world.table, through]

    async def run() -> None:
        await world.event(1)
        through["order-1"] = "open"  # written at once, its delivery still pending
        world.topics[ALERTS.name].ack()
        commit = asyncio.ensure_future(world.checkpoint_and_commit())
        for _ in range(5):
            await asyncio.sleep(0)
        assert [key for _, key, _ in slow.changelog] == ["order-1", "alert-1"]
        assert not commit.done() and world.committed == []
        for fut in slow.futures:
            fut.set_result(None)
        await commit
        assert len(world.committed) == 1

    asyncio.run(run())


def test_a_refused_changelog_write_stops_the_worker_before_the_offsets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World()
    slow = SlowChangelog()
    world.table = StagedTable(slow, partition=lambda key: 0)
    world.checkpoint._tables = [world.table]

    def exit_(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(checkpoint_module.os, "_exit", exit_)

    async def run() -> None:
        await world.event(1)
        world.topics[ALERTS.name].ack()
        commit = asyncio.ensure_future(world.checkpoint_and_commit())
        while not slow.futures:
            await asyncio.sleep(0)
        slow.futures[0].set_exception(RuntimeError("NotEnoughReplicas"))
        await commit

    with pytest.raises(Exited):
        asyncio.run(run())
    assert world.committed == []
