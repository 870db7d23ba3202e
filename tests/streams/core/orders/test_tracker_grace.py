"""The order tracker's tick judges as of its own time less a grace (updates in flight)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from districts import default_router

from schemas import Alert, AlertKind, DispatchUpdate, OrderAction
from streams.core.orders.create import create_order
from streams.core.orders.tracker import OrderTracker
from streams.core.shared.catalogue import load_catalogue

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CELL = "cell.linping.c01.01"


def _emergency_order():  # type: ignore[no-untyped-def]
    point = next(p for p in load_catalogue().risk_points if p.emergency and not p.auto_dispose)
    alert = Alert(
        alert_id="a1", kind=AlertKind.SINGLE, rule_id="single", level="high", emergency=True,
        auto_disposable=False, scope=CELL, module=point.module, risk_points=[point.id],
        labels={"module": point.module, "emergency": "true"}, signal_ids=["sig-1"],
        source_keys=["s1"], summary="emergency", event_time=T0,
    )  # fmt: skip
    return create_order(default_router(), alert, T0)


def _tracker(grace: timedelta) -> OrderTracker:
    catalogue = load_catalogue()
    tracker = OrderTracker({}, default_router(), catalogue.fed_by_records, grace)
    order = _emergency_order()
    tracker.commit(tracker.on_order(order, 0, T0))
    return tracker


def _update(order_id: str, action: OrderAction, at: datetime) -> DispatchUpdate:
    return DispatchUpdate(
        update_id=f"u-{action.value}", order_id=order_id, action=action, actor="w1", event_time=at
    )


def test_a_tick_without_grace_breaches_at_the_deadline() -> None:
    tracker = _tracker(timedelta(0))
    plan = tracker.on_tick(0, T0 + timedelta(minutes=5, seconds=1), set())
    assert [b.stage for b, _ in plan.breaches]


def test_a_grace_lets_an_update_made_on_time_but_in_flight_count() -> None:
    tracker = _tracker(timedelta(seconds=30))
    order_id = next(iter(tracker.records))
    # the tick of 5 min 10 s comes first, but judges as of 4 min 40 s: nothing is due yet
    assert tracker.on_tick(0, T0 + timedelta(minutes=5, seconds=10), set()).breaches == []
    # the worker signed and was assigned before 5 min; the updates arrive after that tick
    for action, at in ((OrderAction.SIGNED, 4 * 60 + 40), (OrderAction.ASSIGNED, 4 * 60 + 50)):
        plan = tracker.on_update(
            _update(order_id, action, T0 + timedelta(seconds=at)),
            T0 + timedelta(minutes=5, seconds=20),
        )
        tracker.commit(plan)
        # each status carries the update's own time, not when the tracker got it
        assert [o.event_time for o in plan.outputs] == [T0 + timedelta(seconds=at)]
    # later ticks find the first stage met in time: no breach of it, ever
    plan = tracker.on_tick(0, T0 + timedelta(minutes=6), set())
    assert [b for b, _ in plan.breaches if b.deadline == T0 + timedelta(minutes=5)] == []
