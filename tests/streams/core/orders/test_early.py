"""Updates that overtake their own order wait for it (streams.core.orders.early, via the tracker).

A field app reads the dispatch order from its topic; the worker may sign before
the tracker has read that order. The update waits, is applied when the order
comes (counting as met at its own event time), and is refused as
``unknown_order`` — from where it was read — only if the order never comes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from districts import default_router
from hypothesis import given
from hypothesis import strategies as st

from schemas import Alert, AlertKind, DeadLetterReason, DispatchUpdate, OrderAction, OrderState
from streams.core.orders.create import create_order
from streams.core.orders.early import MAX_PER_ORDER, EarlyUpdates, Where
from streams.core.orders.tracker import OrderTracker
from streams.core.shared.catalogue import load_catalogue

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CELL = "cell.linping.c01.01"
WAIT = timedelta(minutes=5)


def _order():  # type: ignore[no-untyped-def]
    point = next(p for p in load_catalogue().risk_points if p.emergency and not p.auto_dispose)
    alert = Alert(
        alert_id="a1", kind=AlertKind.SINGLE, rule_id="single", level="high", emergency=True,
        auto_disposable=False, scope=CELL, module=point.module, risk_points=[point.id],
        labels={"module": point.module, "emergency": "true"}, signal_ids=["sig-1"],
        source_keys=["s1"], summary="emergency", event_time=T0,
    )  # fmt: skip
    return create_order(default_router(), alert, T0)


def _tracker() -> tuple[OrderTracker, dict[str, Any]]:
    entries: dict[str, Any] = {}
    tracker = OrderTracker(
        {}, default_router(), load_catalogue().fed_by_records, early=EarlyUpdates(entries, WAIT)
    )
    return tracker, entries


def _update(order_id: str, action: OrderAction, at: datetime, n: int = 0) -> DispatchUpdate:
    return DispatchUpdate(
        update_id=f"u-{action.value}-{n}",
        order_id=order_id,
        action=action,
        actor="w1",
        event_time=at,
    )


def test_updates_before_their_order_wait_and_are_applied_at_their_own_times() -> None:
    tracker, entries = _tracker()
    order = _order()
    signed = _update(order.order_id, OrderAction.SIGNED, T0 + timedelta(seconds=30))
    assigned = _update(order.order_id, OrderAction.ASSIGNED, T0 + timedelta(seconds=50))
    for offset, update in ((8, assigned), (7, signed)):  # by event time, not arrival
        plan = tracker.on_update(update, T0 + timedelta(seconds=55), Where("updates", 0, offset))
        assert plan.dead_letter is None and plan.outputs == []
        tracker.commit(plan)
    assert list(entries) == [order.order_id]
    plan = tracker.on_order(order, 0, T0 + timedelta(seconds=60))
    states = [s.state for s in plan.outputs if hasattr(s, "state")]
    assert states == [OrderState.OPEN, OrderState.SIGNED, OrderState.ASSIGNED]
    assert plan.outputs[-1].event_time == assigned.event_time  # met when it happened
    tracker.commit(plan)
    assert entries == {}
    assert tracker.load(order.order_id).state is OrderState.ASSIGNED  # type: ignore[union-attr]
    # the 5-minute stage was met in time: never breached
    late = tracker.on_tick(0, T0 + timedelta(minutes=6), set())
    assert [b.stage for b, _ in late.breaches if b.stage == "signed"] == []


def test_an_update_whose_order_never_comes_is_refused_after_the_wait_from_its_source() -> None:
    tracker, entries = _tracker()
    stray = _update("order-nobody-dispatched", OrderAction.SIGNED, T0)
    tracker.commit(tracker.on_update(stray, T0, Where("updates", 1, 99)))
    assert tracker.on_tick(1, T0 + WAIT - timedelta(seconds=1), set()).refused == []
    assert tracker.on_tick(0, T0 + WAIT, set()).refused == []  # another partition's tick
    plan = tracker.on_tick(1, T0 + WAIT, set())
    [(parked, reason, detail)] = plan.refused
    assert reason is DeadLetterReason.UNKNOWN_ORDER and "order-nobody-dispatched" in detail
    assert parked.where == Where("updates", 1, 99) and parked.update == stray
    tracker.commit(plan)
    assert entries == {}


def test_a_parked_update_the_order_does_not_allow_is_refused_when_it_comes() -> None:
    tracker, _ = _tracker()
    order = _order()
    arrived = _update(order.order_id, OrderAction.ARRIVED, T0)  # never signed nor assigned
    tracker.commit(tracker.on_update(arrived, T0, Where("updates", 0, 3)))
    plan = tracker.on_order(order, 0, T0 + timedelta(seconds=5))
    [(_, reason, _)] = plan.refused
    assert reason is DeadLetterReason.INVALID_TRANSITION
    assert [s.state for s in plan.outputs if hasattr(s, "state")] == [OrderState.OPEN]


def test_without_a_source_or_a_table_an_unknown_order_is_refused_at_once() -> None:
    tracker = OrderTracker({}, default_router(), load_catalogue().fed_by_records)
    plan = tracker.on_update(_update("o-x", OrderAction.SIGNED, T0), T0, Where("updates", 0, 1))
    assert plan.dead_letter is not None and plan.dead_letter[0] is DeadLetterReason.UNKNOWN_ORDER


@given(st.lists(st.sampled_from(range(MAX_PER_ORDER + 4)), min_size=1, max_size=40))
def test_replays_park_once_and_an_order_keeps_a_bounded_number(ids: list[int]) -> None:
    early = EarlyUpdates({}, WAIT)
    refused = 0
    for n in ids:
        entry = early.park(_update("o1", OrderAction.FEEDBACK, T0, n), Where("u", 0, n), T0)
        if entry is None:
            refused += 1
        else:
            early.entries["o1"] = entry
    kept = [p.update.update_id for p in early.parked("o1")]
    assert len(kept) == len(set(kept)) == min(len(set(ids)), MAX_PER_ORDER)
    assert refused == sum(1 for n in ids if f"u-feedback-{n}" not in kept)
