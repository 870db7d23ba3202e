"""The order tracker: every order's lifecycle and its SLA deadlines, for the orders a worker holds.

(alert → **order** → breach → notification.) Four inputs, all keyed by order id:
the dispatch order itself, lifecycle updates from the field, the re-check
verdicts of auto-disposal, and clock ticks (one per partition). Each gives a
:class:`Plan`: what to publish, which records to write, and what to count. The
caller publishes the outputs, waits for the broker, and only then calls
:meth:`OrderTracker.commit` — so a breach is marked in the records only once it
is on the broker.

Records live in a mapping the caller provides (a changelog-backed table: one JSON
record per order id, with the partition it belongs to). A tick for partition *p*
looks only at the records of *p* whose next due time has come
(:class:`~streams.core.orders.due.DueIndex`, built from the records on the
partition's first tick after an assignment). Breaches already published (read
back from the breach topic by the caller after a restart) are passed in as
``known``, so a breach is published once per (order, stage) whatever happens.

A tick judges as of its own time less a ``grace`` (``YUJING_SLA_GRACE_S``): a
stage is met at the update's own event time, so an update reported on time but
still on its way to the broker (or a re-check verdict) is not overtaken by a
tick of the same instant (on an accelerated clock, wall lag times the speed).
Those already on the broker the caller reads before it hands a tick over
(``streams.runtime.readthrough``): ticks and updates are different topics, and
Kafka orders neither against the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas import (
    DeadLetterReason,
    DispatchOrder,
    DispatchUpdate,
    Event,
    OrderState,
    SensorHealth,
)
from schemas.order import SlaBreach
from streams.core.notifications import plan as notify
from streams.core.orders import lifecycle
from streams.core.orders.due import DueIndex
from streams.core.orders.early import EarlyUpdates, Parked, Where
from streams.core.orders.lifecycle import OrderRecord, Step
from streams.core.orders.routing import Router
from streams.core.signals import recheck

Records = MutableMapping[str, Any]


@dataclass
class Plan:
    """What one input asks for: outputs first, then record writes and what to count."""

    outputs: list[Event] = field(default_factory=list)
    writes: dict[str, OrderRecord] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    #: breaches published by this plan, with the record they belong to
    breaches: list[tuple[SlaBreach, OrderRecord]] = field(default_factory=list)
    #: an order this plan starts tracking
    opened: DispatchOrder | None = None
    #: a lifecycle update the state machine refuses: the dead letter's reason and detail
    dead_letter: tuple[DeadLetterReason, str] | None = None
    #: early-update entries to write (``None``: delete), by order id
    parks: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    #: parked updates refused (their order never came, or it does not allow them)
    refused: list[tuple[Parked, DeadLetterReason, str]] = field(default_factory=list)


class OrderTracker:
    """Orders of one worker: records by order id, their due times, breaches known published."""

    def __init__(
        self,
        records: Records,
        router: Router,
        fed_by_records: Callable[[str], bool],
        grace: timedelta = timedelta(0),
        early: EarlyUpdates | None = None,
    ) -> None:
        self.records = records
        #: updates that came before their orders (``None``: refused at once)
        self.early = early
        #: how long a tick waits for updates and verdicts in flight before it judges
        self.grace = grace
        self.router = router
        #: risk point id → whether department records (a place) feed it, not sensors
        self.fed_by_records = fed_by_records
        self.index = DueIndex()

    def load(self, order_id: str) -> OrderRecord | None:
        raw = self.records.get(order_id)
        return None if raw is None else OrderRecord.model_validate(raw)

    def on_order(self, order: DispatchOrder, partition: int, now: datetime) -> Plan:
        if self.records.get(order.order_id) is not None:
            return Plan()  # a replayed order: already tracked, one order per alert
        auto = order.auto_disposal
        by_records = auto is not None and self.fed_by_records(auto.risk_point)
        watches = recheck.watch_requests(order, by_records, now)
        step = lifecycle.open_order(
            order, partition, now, watched=[recheck.watched_key(w) for w in watches]
        )
        assert step.record is not None
        plan = Plan(
            outputs=[*step.statuses, *watches],
            writes={order.order_id: step.record},
            steps=[step],
            opened=order,
        )
        parked = self.early.parked(order.order_id) if self.early is not None else []
        rec = step.record
        for waiting in parked:  # signed before the tracker read the order: apply them now
            then = self._apply(rec, waiting.update, now)
            if then.dead_letter is not None:
                plan.refused.append((waiting, *then.dead_letter))
                continue
            plan.outputs += then.outputs
            plan.steps += then.steps
            rec = then.writes.get(order.order_id, rec)
        if parked:
            plan.writes[order.order_id] = rec
            plan.parks[order.order_id] = None
        return plan

    def on_update(self, update: DispatchUpdate, now: datetime, where: Where | None = None) -> Plan:
        """``where``: where it was read, to park it if its order has not come yet."""
        rec = self.load(update.order_id)
        if rec is None and self.early is not None and where is not None:
            entry = self.early.park(update, where, now)
            if entry is not None:
                return Plan(parks={update.order_id: entry})
        return self._apply(rec, update, now)

    def _apply(self, rec: OrderRecord | None, update: DispatchUpdate, now: datetime) -> Plan:
        step = lifecycle.apply_update(rec, update, now)
        if step.error is not None:
            reason, detail = step.error
            return Plan(dead_letter=(DeadLetterReason(reason), detail))
        if step.record is None:
            return Plan()
        new = step.record
        outputs: list[Event] = list(step.statuses)
        if step.escalate:  # help requested: a person gets it now, not at the re-check
            outputs += notify.plan_escalated(
                new.order_id,
                new.alert_id,
                new.receiver,
                new.channels,
                self.router,
                now,
                help_requested=True,
            )
        return Plan(outputs=outputs, writes={update.order_id: new}, steps=[step])

    def on_health(self, health: SensorHealth) -> Plan:
        new = lifecycle.sensor_health(
            self.load(health.order_id), health.sensor_id, health.recovered
        )
        return Plan() if new is None else Plan(writes={health.order_id: new})

    def on_tick(self, partition: int, now: datetime, known: set[str]) -> Plan:
        """Every order of ``partition`` due by ``now`` less the grace: breaches,
        escalations, re-checks. ``now`` is the tick's own time (never later than the clock)."""
        now -= self.grace
        if not self.index.built(partition):
            self.index.build(partition, self._records_of(partition))
        plan = Plan()
        for order_id in self.index.due(partition, now):
            rec = self.load(order_id)
            if rec is None:
                continue
            step = lifecycle.on_tick(rec, now)
            if step.record is None:
                continue
            fresh = [b for b in step.breaches if b.breach_id not in known]
            plan.outputs += step.statuses
            if step.escalate:
                plan.outputs += notify.plan_escalated(
                    rec.order_id, rec.alert_id, rec.receiver, rec.channels, self.router, now
                )
            for b in fresh:
                plan.outputs += notify.plan_breach(b, self.router, now)
            plan.outputs += fresh  # last: a breach on the topic means its escalation went out
            plan.writes[order_id] = step.record
            plan.steps.append(step)
            plan.breaches += [(b, step.record) for b in fresh]
        if self.early is not None:  # updates whose orders never came: refused now
            for order_id, parked in self.early.expired(partition, now + self.grace).items():
                wait = self.early.wait.total_seconds()
                detail = f"no order {order_id} was dispatched (waited {wait:g} s for it)"
                plan.refused += [(p, DeadLetterReason.UNKNOWN_ORDER, detail) for p in parked]
                plan.parks[order_id] = None
        return plan

    def commit(self, plan: Plan, known: set[str] | None = None) -> None:
        """The plan's outputs are on the broker: write its records, note its breaches."""
        for order_id, rec in plan.writes.items():
            self.records[order_id] = rec.to_json()
            self.index.put(rec)
        if self.early is not None:
            for order_id, entry in plan.parks.items():
                if entry is None:
                    self.early.entries.pop(order_id, None)
                else:
                    self.early.entries[order_id] = entry
        if known is not None:
            known.update(b.breach_id for b, _ in plan.breaches)

    def open_counts(self, partitions: Iterable[int]) -> dict[str, int]:
        """Orders not finished, by state, over ``partitions``."""
        mine = set(partitions)
        counts = {s.value: 0 for s in OrderState if s not in lifecycle.TERMINAL}
        for raw in list(self.records.values()):
            if raw.get("partition") in mine and raw.get("state") in counts:
                counts[raw["state"]] += 1
        return counts

    def forget(self) -> None:
        """Partitions may move (a rebalance): rebuild the due index from the records."""
        self.index.forget()

    def _records_of(self, partition: int) -> Iterable[OrderRecord]:
        return (
            OrderRecord.model_validate(raw)
            for raw in list(self.records.values())
            if raw.get("partition") == partition
        )
