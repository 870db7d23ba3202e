"""The order tracker's agent (runtime/agents/track_orders.py): a tick waits for its inputs.

Broker-free: the agent's handlers on an unstarted worker, the consumer's
positions and the breach read-back replaced by what the test says.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from schemas import DispatchUpdate, OrderAction, Tick
from schemas.order import SlaBreach
from schemas.registry import DISPATCH_ORDERS, DISPATCH_UPDATES, DISPOSAL_CHECKS, TICKS
from streams.core.orders.create import create_order
from streams.runtime.agent import Result, Source
from streams.runtime.agents import track_orders
from streams.runtime.app import create_pipeline
from streams.runtime.metrics import Metrics
from streams.runtime.readback import BreachReadBack
from streams.runtime.settings import Settings
from tests.lib.alerts import gas_alert

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@dataclasses.dataclass
class Tracking:
    """The agent's handlers, its context, and the consumer positions the test sets."""

    settings: Settings
    ctx: Any
    handlers: Any
    positions: dict[str, tuple[int | None, int | None]]

    def topic(self, spec: Any) -> str:
        return self.settings.topic(spec.name)


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tracking:
    settings = Settings.from_env(environ={}, data_dir=tmp_path, topic_prefix="t.", partitions=1)
    built = create_pipeline(settings, registry=CollectorRegistry()).context
    ctx = dataclasses.replace(built, metrics=Metrics(CollectorRegistry()))  # built once more
    tables: dict[str, dict[str, Any]] = {}  # a Faust table is written only inside a stream
    monkeypatch.setattr(ctx, "table", lambda name, staged=False: tables.setdefault(name, {}))
    positions: dict[str, tuple[int | None, int | None]] = {}
    monkeypatch.setattr(ctx, "positions", lambda topic, p: positions.get(topic, (None, None)))

    async def known(self: BreachReadBack, partition: int) -> set[str]:
        return set()  # no breach on the broker yet

    monkeypatch.setattr(BreachReadBack, "known", known)
    return Tracking(settings, ctx, track_orders.AGENT.build(ctx), positions)


async def _run(handler: Any, event: Any, src: Source) -> Result:
    result = handler(event, src)
    if asyncio.iscoroutine(result):
        result = await result
    assert isinstance(result, Result)
    if result.commit is not None:
        result.commit()
    return result


def test_a_tick_judges_nothing_while_an_update_written_before_it_is_unread(
    tracking: Tracking,
) -> None:
    handlers, positions = tracking.handlers, tracking.positions
    updates, checks = tracking.topic(DISPATCH_UPDATES), tracking.topic(DISPOSAL_CHECKS)
    order = create_order(tracking.ctx.config.router, gas_alert(T0), T0)
    late = T0 + timedelta(days=8)  # every stage of the order is due
    tick = Tick(partition="0", event_time=late)
    at_tick = Source(tracking.topic(TICKS), 0, 0)

    async def scenario() -> None:
        await _run(handlers[DISPATCH_ORDERS], order, Source(tracking.topic(DISPATCH_ORDERS), 0, 0))
        # the consumer has not fetched the inputs yet: it cannot say what they hold
        assert not (await _run(handlers[TICKS], tick, at_tick)).outputs
        # an update (offset 0) waits on its topic: the tick must not judge before it
        positions.update({updates: (1, None), checks: (0, None)})
        assert not (await _run(handlers[TICKS], tick, at_tick)).outputs
        # a verdict the consumer has seen and nobody handled holds the tick too
        positions.update({updates: (0, None), checks: (3, 2)})
        assert not (await _run(handlers[TICKS], tick, at_tick)).outputs
        # committed offsets count as handled (records before a restart): now it judges
        positions.update({updates: (1, 1), checks: (3, 3)})
        judged = await _run(handlers[TICKS], tick, at_tick)
        assert any(isinstance(e, SlaBreach) for e in judged.outputs)

    asyncio.run(scenario())
    waiting = tracking.ctx.metrics.ticks_waiting
    assert waiting.labels(DISPATCH_UPDATES.name)._value.get() == 2
    assert waiting.labels(DISPOSAL_CHECKS.name)._value.get() == 2


def test_a_tick_judges_once_the_updates_before_it_are_handled(tracking: Tracking) -> None:
    """Signed and assigned on time, read after a tick past the deadline: the tick waits
    for them, so the stage they met is not breached."""
    handlers = tracking.handlers
    updates, checks = tracking.topic(DISPATCH_UPDATES), tracking.topic(DISPOSAL_CHECKS)
    tracking.positions.update({updates: (2, None), checks: (0, None)})
    order = create_order(tracking.ctx.config.router, gas_alert(T0), T0)
    on_time = [
        DispatchUpdate(
            event_time=T0 + timedelta(minutes=i + 1),
            update_id=f"u-{i}",
            order_id=order.order_id,
            action=action,
            actor=order.receiver,
        )
        for i, action in enumerate((OrderAction.SIGNED, OrderAction.ASSIGNED))
    ]
    past = order.deadlines["signed"] + timedelta(minutes=1)
    tick = Tick(partition="0", event_time=past)
    at_tick = Source(tracking.topic(TICKS), 0, 0)

    async def scenario() -> list[Any]:
        await _run(handlers[DISPATCH_ORDERS], order, Source(tracking.topic(DISPATCH_ORDERS), 0, 0))
        assert not (await _run(handlers[TICKS], tick, at_tick)).outputs  # updates unread
        await _run(handlers[DISPATCH_UPDATES], on_time[0], Source(updates, 0, 0))
        assert not (await _run(handlers[TICKS], tick, at_tick)).outputs  # one still unread
        await _run(handlers[DISPATCH_UPDATES], on_time[1], Source(updates, 0, 1))
        return list((await _run(handlers[TICKS], tick, at_tick)).outputs)

    outputs = asyncio.run(scenario())
    assert not [e for e in outputs if isinstance(e, SlaBreach) and e.stage == "signed"]
