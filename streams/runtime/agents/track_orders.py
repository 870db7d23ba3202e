"""Agent ``track_orders``: the order lifecycle and its durable SLA deadlines (→ **order** → breach).

Four topics, all co-partitioned by order id — dispatch orders, lifecycle updates,
the re-check verdicts of auto-disposal, and clock ticks (one per partition;
:mod:`streams.runtime.ticker`) — feed the order tracker
(:mod:`streams.core.orders.tracker`), whose records live in a changelog-backed
table keyed by order id. Exactly one breach per (order, stage) across ``kill -9``:
a breach is published, awaited, and only then marked; before a partition's
first tick after a start or a rebalance, the breaches already on the broker are
read back (:mod:`streams.runtime.readback`). Nothing here is ``@app.timer``
state or window expiry: the deadlines live in the table and recover with it.
"""

from __future__ import annotations

from datetime import timedelta

from schemas import Tick
from schemas.registry import DISPATCH_ORDERS as ORDERS
from schemas.registry import DISPATCH_UPDATES, DISPOSAL_CHECKS, TICKS
from streams.core.orders.tracker import OrderTracker, Plan
from streams.runtime import failpoints
from streams.runtime.agent import Agent, Handlers, Result, Source
from streams.runtime.context import Context
from streams.runtime.readback import BreachReadBack


def build(ctx: Context) -> Handlers:
    clock, config = ctx.clock, ctx.config
    tracker = OrderTracker(ctx.table("orders"), config.router, config.catalogue.fed_by_records)
    tracker.grace = timedelta(seconds=ctx.settings.sla_grace_s)  # updates in flight
    readback = BreachReadBack(ctx.settings)
    for forget in (readback.forget, tracker.forget):  # partitions may move: read again
        ctx.on_revoke(forget)
    ctx.metrics.watch_open_orders(lambda: tracker.open_counts(ctx.active_partitions(ORDERS)))

    def done(plan: Plan, known: set[str] | None = None) -> Result:
        def commit() -> None:
            failpoints.die_after_breach(ctx.settings, bool(plan.breaches))
            tracker.commit(plan, known)
            ctx.metrics.observe_orders(plan)

        return Result(outputs=plan.outputs, commit=commit, dead_letter=plan.dead_letter)

    async def on_tick(tick: Tick, src: Source) -> Result:
        known = await readback.known(src.partition)  # None: the broker cannot say yet
        if known is None:
            return Result()
        return done(tracker.on_tick(src.partition, min(tick.event_time, clock()), known), known)

    return {
        ORDERS: lambda order, src: done(tracker.on_order(order, src.partition, clock())),
        DISPATCH_UPDATES: lambda update, _: done(tracker.on_update(update, clock())),
        DISPOSAL_CHECKS: lambda health, _: done(tracker.on_health(health)),
        TICKS: on_tick,
    }


AGENT = Agent("track_orders", build)
