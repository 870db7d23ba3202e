"""Agent ``track_orders``: the order lifecycle and its durable SLA deadlines.

(alert → **order** → breach → notification.) One agent reads four topics, all
co-partitioned by order id — dispatch orders, lifecycle updates, the re-check
verdicts of auto-disposal (re-keyed to the order), and clock ticks (one per partition) —
and keeps one record per order in a changelog-backed table keyed by order id.
The record stores its partition, so the tick for partition *p* handles exactly
the records whose changelog partition is *p* (a table may only be written in
the partition of the event being processed), and of those only the ones due:
``streams.core.orders.due`` indexes each record's next due time, built from the table
on a partition's first tick after an assignment and updated on every write.

Exactly one breach per (order, stage), across ``kill -9``: breaches are
published, awaited, and only then marked in the table. The gap between the
two (a crash after the broker has the breach, before the mark is durable) is
closed by reading our own output: before the first tick of a partition after
start or rebalance, the agent reads that partition of the breaches topic and
treats every breach id there as published. Breach ids are deterministic from
(order, stage). The escalation notification is published *before* its breach,
so a crash between them re-sends it with the same idempotency key (the
provider keeps one) and never loses it.

Timers are neither ``@app.timer`` state nor window expiry: the ticker below
only publishes ticks (any number of them, from any worker, is harmless); the
deadlines live in the table and are recovered with it.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import TYPE_CHECKING, Any, cast

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import (
    DeadLetterReason,
    DispatchOrder,
    DispatchUpdate,
    Event,
    OrderAction,
    OrderState,
    SensorHealth,
    Tick,
)
from schemas.codec import DecodeError, decode, encode
from schemas.order import SlaBreach
from schemas.registry import (
    DISPATCH_ORDERS,
    DISPATCH_UPDATES,
    DISPOSAL_CHECKS,
    SLA_BREACHES,
    TICKS,
)
from streams.core.notifications import plan as notify
from streams.core.orders import lifecycle
from streams.core.orders.due import DueIndex
from streams.core.orders.lifecycle import OrderRecord
from streams.core.signals import recheck as disposal
from streams.runtime.hop import Hop, Result

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline

log = logging.getLogger(__name__)


def register(pipe: Pipeline) -> None:
    records = pipe.table("orders")
    m = pipe.metrics
    #: partition → breach ids known to be on the breaches topic (this process's view)
    published: dict[int, set[str]] = {}
    #: partition → order id → next due time: a tick checks only the orders due
    index = DueIndex()
    #: Test-only fault injection: "die_after_breach" exits like kill -9 right after a
    #: breach is on the broker and before its mark is stored (proves the read-back).
    failpoint = pipe.settings.failpoint

    hops: dict[str, Hop[Any]] = {
        pipe.settings.topic(spec.name): Hop(
            pipe,
            f"track_orders.{spec.name.split('.')[1]}",
            spec,
            # orders are owned (counted, dead-lettered) by plan_notifications
            owns_input=spec is not DISPATCH_ORDERS,
        )
        for spec in (DISPATCH_ORDERS, DISPATCH_UPDATES, DISPOSAL_CHECKS, TICKS)
    }

    orders_topic = pipe.settings.topic(DISPATCH_ORDERS.name)

    def open_orders() -> list[tuple[tuple[str], float]]:
        """Orders not finished, by state, over the partitions this worker owns (at scrape)."""
        actives = pipe.app.assignor.assigned_actives()
        mine = {tp.partition for tp in actives if tp.topic == orders_topic}
        counts = {s.value: 0 for s in OrderState if s not in lifecycle.TERMINAL}
        for raw in list(records.values()):
            if raw.get("partition") in mine and raw.get("state") in counts:
                counts[raw["state"]] += 1
        return [((state,), float(n)) for state, n in counts.items()]

    m.collect_from(
        "yujing_open_orders",
        "Orders not yet closed or auto-resolved, by lifecycle state, on this worker's partitions.",
        ["state"],
        open_orders,
    )

    def fed_by_records(order: DispatchOrder) -> bool:
        """Whether the order's risk point reads department records (its place is watched)."""
        plan = order.auto_disposal
        if plan is None:
            return False
        try:
            return pipe.catalogue.risk_point(plan.risk_point).source.input == "record"
        except KeyError:
            return False  # gone from the catalogue: nothing judges it, the order escalates

    def load(order_id: str) -> OrderRecord | None:
        raw = records.get(order_id)
        return None if raw is None else OrderRecord.model_validate(raw)

    def count_status(step: lifecycle.Step) -> None:
        for s in step.statuses:
            m.order_transitions.labels(s.state.value).inc()
            if s.state is OrderState.AUTO_RESOLVED:
                m.auto_disposal.labels("auto_resolved").inc()
                pipe.metrics.order_decided(True, s.event_time)
            elif s.cause == "recheck":
                m.auto_disposal.labels("escalated").inc()
            elif s.cause == OrderAction.HELP_REQUESTED.value:
                m.auto_disposal.labels("help_requested").inc()
            elif s.state is OrderState.CLOSED:
                pipe.metrics.order_decided(False, s.event_time)

    def on_order(order: DispatchOrder, partition: int) -> Result:
        if records.get(order.order_id) is not None:
            return Result()  # a replayed order: already tracked, one order per alert
        now = pipe.clock()
        watches = disposal.watch_requests(order, fed_by_records(order), now)
        step = lifecycle.open_order(
            order, partition, now, watched=[disposal.watched_key(w) for w in watches]
        )
        assert step.record is not None
        rec = step.record
        outputs: list[Event] = [*step.statuses, *watches]

        def commit() -> None:
            records[order.order_id] = rec.to_json()
            index.put(rec)
            m.orders.labels(
                "auto" if order.auto_disposal else "person", m.department(order.department)
            ).inc()
            count_status(step)

        return Result(outputs=outputs, commit=commit)

    def on_update(update: DispatchUpdate) -> Result:
        step = lifecycle.apply_update(load(update.order_id), update, pipe.clock())
        if step.error is not None:
            reason, detail = step.error
            return Result(dead_letter=(DeadLetterReason(reason), detail))
        if step.record is None:
            return Result()
        new = step.record
        outputs: list[Event] = list(step.statuses)
        if step.escalate:  # help requested: a person gets it now, not at the re-check
            outputs += notify.plan_escalated(
                new.order_id,
                new.alert_id,
                new.receiver,
                new.channels,
                pipe.router,
                pipe.clock(),
                help_requested=True,
            )

        def commit() -> None:
            records[update.order_id] = new.to_json()
            index.put(new)
            count_status(step)

        return Result(outputs=outputs, commit=commit)

    def on_health(health: SensorHealth) -> Result:
        new = lifecycle.sensor_health(load(health.order_id), health.sensor_id, health.recovered)
        if new is None:
            return Result()

        def commit() -> None:
            records[health.order_id] = new.to_json()
            index.put(new)

        return Result(commit=commit)

    async def on_tick(tick: Tick, partition: int) -> Result:
        known = published.get(partition)
        if known is None:
            try:
                known = published[partition] = await _published_breaches(pipe, partition)
            except Exception as err:  # the broker will answer later: skip this tick
                log.warning("partition %d: cannot read back breaches yet: %r", partition, err)
                return Result()
            log.info("partition %d: %d breaches already published", partition, len(known))
        if not index.built(partition):
            index.build(
                partition,
                (
                    OrderRecord.model_validate(raw)
                    for raw in list(records.values())
                    if raw.get("partition") == partition
                ),
            )
        now = pipe.clock()
        outputs: list[Event] = []
        writes: dict[str, OrderRecord] = {}
        steps = []
        for order_id in index.due(partition, now):
            rec = load(order_id)
            if rec is None:
                continue
            step = lifecycle.on_tick(rec, now)
            if step.record is None:
                continue
            fresh = [b for b in step.breaches if b.breach_id not in known]
            outputs += step.statuses
            if step.escalate:
                outputs += notify.plan_escalated(
                    rec.order_id, rec.alert_id, rec.receiver, rec.channels, pipe.router, now
                )
            for b in fresh:
                outputs += notify.plan_breach(b, pipe.router, now)
            outputs += fresh  # last: a breach on the topic means its escalation went out
            writes[order_id] = step.record
            steps.append((step, fresh))
        if not writes:
            return Result()

        def commit() -> None:
            if failpoint == "die_after_breach" and any(fresh for _, fresh in steps):
                log.warning("failpoint die_after_breach: exiting without storing the marks")
                os._exit(137)
            for order_id, new in writes.items():
                records[order_id] = new.to_json()
                index.put(new)
            for step, fresh in steps:
                count_status(step)
                for b in fresh:
                    known.add(b.breach_id)
                    m.sla_breaches.labels(
                        writes[b.order_id].sla_class.value, b.stage, m.department(b.department)
                    ).inc()

        return Result(outputs=outputs, commit=commit)

    async def forget_published(sender: Any, *args: Any, **kwargs: Any) -> None:
        published.clear()  # another worker may publish there now: read back again
        index.forget()  # and partitions may move: rebuild from the table when ticked

    pipe.app.on_partitions_revoked.connect(cast(Any, forget_published))

    async def track_orders(event: faust.EventT) -> None:
        topic, partition = event.message.topic, event.message.partition
        hop = hops[topic]
        if hop.source is DISPATCH_ORDERS:
            await hop.handle(event, functools.partial(on_order, partition=partition))
        elif hop.source is DISPATCH_UPDATES:
            await hop.handle(event, on_update)
        elif hop.source is DISPOSAL_CHECKS:
            await hop.handle(event, on_health)
        else:
            await hop.handle(event, functools.partial(on_tick, partition=partition))

    pipe.wiring.on("track_orders", [h.source for h in hops.values()], track_orders)

    ticks = pipe.topic(TICKS)

    @pipe.app.timer(interval=pipe.settings.tick_interval_s, name="publish_ticks")
    async def publish_ticks() -> None:
        now = pipe.clock()
        for p in range(pipe.settings.partitions):
            tick = Tick(partition=str(p), event_time=now)
            await ticks.send(key=str(p).encode(), value=encode(tick), partition=p)


async def _published_breaches(pipe: Pipeline, partition: int) -> set[str]:
    """Breach ids already on partition ``partition`` of the breaches topic."""
    s = pipe.settings
    tp = TopicPartition(s.topic(SLA_BREACHES.name), partition)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=s.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    found: set[str] = set()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, 0)  # (seek_to_beginning lost to the 'latest' reset here)
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for rec in batch.get(tp, []):
                try:
                    found.add(decode(SlaBreach, rec.value).breach_id)
                except DecodeError:
                    continue  # not ours to judge; the topic only carries our breaches
    finally:
        await consumer.stop()
    return found
