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

from schemas import Alert, AlertKind, DispatchUpdate, OrderAction, Tick
from schemas.order import SlaBreach
from schemas.registry import DISPATCH_ORDERS, DISPATCH_UPDATES, DISPOSAL_CHECKS, TICKS
from streams.core.orders.create import create_order
from streams.runtime.agent import Result, Source
from streams.runtime.agents import track_orders
from streams.runtime.app import create_pipeline
from streams.runtime.metrics import Metrics
from streams.runtime.readback import BreachReadBack
from streams.runtime.settings import Settings

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _alert() -> Alert:
    return Alert(
        event_time=T0,
        alert_id="alert-1",
        kind=AlertKind.SINGLE,
        rule_id="single",
        level="critical",
        emergency=True,
        scope="restaurant-7",
        module="gas_safety",
        risk_points=["restaurant_gas_leak"],
        signal_ids=["sig-1"],
        summary="gas at restaurant-7",
    )


def _plain_tables(ctx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dicts for the agent's tables: a Faust table is written only inside a stream."""
    tables: dict[str, dict[str, Any]] = {}
    monkeypatch.setattr(ctx, "table", lambda name, staged=False: tables.setdefault(name, {}))


async def _run(handler: Any, event: Any, src: Source) -> Result:
    result = handler(event, src)
    if asyncio.iscoroutine(result):
        result = await result
    assert isinstance(result, Result)
    if result.commit is not None:
        result.commit()
    return result


def test_a_tick_judges_nothing_while_an_update_written_before_it_is_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env(environ={}, data_dir=tmp_path, topic_prefix="t.", partitions=1)
    built = create_pipeline(settings, registry=CollectorRegistry()).context
    ctx = dataclasses.replace(built, metrics=Metrics(CollectorRegistry()))  # built once more
    _plain_tables(ctx, monkeypatch)
    positions: dict[str, tuple[int | None, int | None]] = {}
    monkeypatch.setattr(ctx, "positions", lambda topic, p: positions.get(topic, (None, None)))

    async def known(self: BreachReadBack, partition: int) -> set[str]:
        return set()

    monkeypatch.setattr(BreachReadBack, "known", known)
    handlers = track_orders.AGENT.build(ctx)
    updates, checks = (settings.topic(s.name) for s in (DISPATCH_UPDATES, DISPOSAL_CHECKS))
    order = create_order(ctx.config.router, _alert(), T0)
    late = T0 + timedelta(days=8)  # every stage of the order is due
    tick = Tick(partition="0", event_time=late)
    at_tick = Source(settings.topic(TICKS.name), 0, 0)

    async def scenario() -> None:
        await _run(handlers[DISPATCH_ORDERS], order, Source(settings.topic("o"), 0, 0))
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
    waiting = ctx.metrics.ticks_waiting
    assert waiting.labels(DISPATCH_UPDATES.name)._value.get() == 2
    assert waiting.labels(DISPOSAL_CHECKS.name)._value.get() == 2


def test_a_tick_judges_once_the_update_before_it_is_handled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The update on time is handled first, so the stage it met is not breached."""
    settings = Settings.from_env(environ={}, data_dir=tmp_path, topic_prefix="t.", partitions=1)
    built = create_pipeline(settings, registry=CollectorRegistry()).context
    ctx = dataclasses.replace(built, metrics=Metrics(CollectorRegistry()))
    _plain_tables(ctx, monkeypatch)
    updates, checks = (settings.topic(s.name) for s in (DISPATCH_UPDATES, DISPOSAL_CHECKS))
    positions = {updates: (1, None), checks: (0, None)}
    monkeypatch.setattr(ctx, "positions", lambda topic, p: positions[topic])

    async def known(self: BreachReadBack, partition: int) -> set[str]:
        return set()

    monkeypatch.setattr(BreachReadBack, "known", known)
    handlers = track_orders.AGENT.build(ctx)
    order = create_order(ctx.config.router, _alert(), T0)
    signed = DispatchUpdate(
        event_time=T0 + timedelta(minutes=1),
        update_id="u-1",
        order_id=order.order_id,
        action=OrderAction.SIGNED,
        actor=order.receiver,
    )
    tick = Tick(partition="0", event_time=T0 + timedelta(minutes=6))  # past the 5-min signing
    at_tick = Source(settings.topic(TICKS.name), 0, 0)

    async def scenario() -> list[Any]:
        await _run(handlers[DISPATCH_ORDERS], order, Source(settings.topic("o"), 0, 0))
        assert not (await _run(handlers[TICKS], tick, at_tick)).outputs  # update unread
        await _run(handlers[DISPATCH_UPDATES], signed, Source(updates, 0, 0))
        return list((await _run(handlers[TICKS], tick, at_tick)).outputs)

    outputs = asyncio.run(scenario())
    assert not [e for e in outputs if isinstance(e, SlaBreach) and e.stage == "signed"]
