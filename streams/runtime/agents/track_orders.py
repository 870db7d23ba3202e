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
An update that overtakes its own order waits for it in a second table
(:mod:`streams.core.orders.early`) and is dead-lettered, from where it was
read, only if the order has not come within ``YUJING_EARLY_UPDATE_WAIT_S``.
A tick judges only once every update and verdict written to its partition before
it is handled (:mod:`streams.runtime.readthrough`): Kafka orders records within
a topic, never across topics, and a stage met on time must not be breached
because its update was still on its way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas import DeadLetter, Tick
from schemas.codec import encode
from schemas.registry import DISPATCH_ORDERS as ORDERS
from schemas.registry import DISPATCH_UPDATES, DISPOSAL_CHECKS, TICKS
from streams.core.orders.early import EarlyUpdates, Where
from streams.core.orders.tracker import OrderTracker, Plan
from streams.runtime import failpoints
from streams.runtime.agent import Agent, Handlers, Result, Source
from streams.runtime.context import Context
from streams.runtime.publish import dead_letter
from streams.runtime.readback import BreachReadBack
from streams.runtime.readthrough import ReadThrough

#: the stage an update is dead-lettered by (as ``wiring.stage_name`` names it)
UPDATES_STAGE = "track_orders.dispatch-updates"


def _tracker(ctx: Context) -> OrderTracker:
    settings, config = ctx.settings, ctx.config
    return OrderTracker(
        ctx.table("orders"),
        config.router,
        config.catalogue.fed_by_records,
        grace=timedelta(seconds=settings.sla_grace_s),  # updates in flight
        early=EarlyUpdates(
            ctx.table("early-updates"), timedelta(seconds=settings.early_update_wait_s)
        ),
    )


def _refused(plan: Plan, now: datetime, max_bytes: int) -> list[DeadLetter]:
    """Dead letters of the parked updates ``plan`` refuses, each from where it was read."""
    return [
        dead_letter(
            Source(p.where.topic, p.where.partition, p.where.offset),
            p.update.order_id.encode(),
            encode(p.update),
            reason,
            detail,
            UPDATES_STAGE,
            now,
            max_bytes,
        )
        for p, reason, detail in plan.refused
    ]


def _waits(ctx: Context, read: ReadThrough, partition: int) -> bool:
    """Whether a tick on ``partition`` must wait: an input there holds records unhandled."""
    behind = read.behind(partition)
    for name in behind:  # what they hold may meet a stage the tick would breach
        ctx.metrics.ticks_waiting.labels(name).inc()
    return bool(behind)


def _reading(ctx: Context, tracker: OrderTracker) -> tuple[BreachReadBack, ReadThrough]:
    """What a tick reads first: the breaches on the broker, and whether its inputs are read."""
    readback = BreachReadBack(ctx.settings)
    for forget in (readback.forget, tracker.forget):  # partitions may move: read again
        ctx.on_revoke(forget)
    inputs = (DISPATCH_UPDATES, DISPOSAL_CHECKS)
    return readback, ReadThrough(
        ctx.positions, {ctx.settings.topic(t.name): t.name for t in inputs}
    )


def build(ctx: Context) -> Handlers:
    clock, tracker = ctx.clock, _tracker(ctx)
    readback, read = _reading(ctx, tracker)
    ctx.metrics.watch_open_orders(lambda: tracker.open_counts(ctx.active_partitions(ORDERS)))

    def done(plan: Plan, known: set[str] | None = None, src: Source | None = None) -> Result:
        def commit() -> None:
            failpoints.die_after_breach(ctx.settings, bool(plan.breaches))
            tracker.commit(plan, known)
            ctx.metrics.observe_orders(plan)  # and the parked updates it dead-letters

        read.handled(src)  # an input a tick waits for (or None)
        refused = _refused(plan, clock(), ctx.settings.max_message_bytes)
        return Result([*plan.outputs, *refused], commit, plan.dead_letter)

    async def on_tick(tick: Tick, src: Source) -> Result:
        known = await readback.known(src.partition)  # None: the broker cannot say yet
        if known is None or _waits(ctx, read, src.partition):
            return Result()
        return done(tracker.on_tick(src.partition, min(tick.event_time, clock()), known), known)

    return {
        ORDERS: lambda order, src: done(tracker.on_order(order, src.partition, clock())),
        DISPATCH_UPDATES: lambda update, src: done(
            tracker.on_update(update, clock(), Where(src.topic, src.partition, src.offset)),
            src=src,
        ),
        DISPOSAL_CHECKS: lambda health, src: done(tracker.on_health(health), src=src),
        TICKS: on_tick,
    }


AGENT = Agent("track_orders", build)
