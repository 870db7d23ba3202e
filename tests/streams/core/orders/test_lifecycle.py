"""The order state machine and SLA breach rules, without a broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import (
    AutoDisposalPlan,
    Channel,
    DispatchOrder,
    DispatchUpdate,
    OrderAction,
    OrderState,
    SlaClass,
)
from streams.core.orders import lifecycle, sla
from streams.core.orders.lifecycle import OrderRecord

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def order(sla_class: SlaClass = SlaClass.EMERGENCY, auto: bool = False) -> DispatchOrder:
    return DispatchOrder(
        order_id="order-1",
        alert_id="alert-1",
        route="emergency",
        receiver="grid_worker_on_duty",
        assignee_role="grid_worker",
        channels=[Channel.SMS],
        sla_class=sla_class,
        deadlines=sla.deadlines(sla_class, T0),
        summary="gas",
        escalate_to="town_duty_office",
        auto_disposal=AutoDisposalPlan(
            party_concerned="site_contact",
            sensor_ids=["s1"],
            risk_point="river_level_high",
            healthy_readings=3,
            recheck_at=T0 + timedelta(minutes=2),
        )
        if auto
        else None,
        event_time=T0,
    )


def opened(**kw: object) -> OrderRecord:
    rec = lifecycle.open_order(order(**kw), partition=1, now=T0).record  # type: ignore[arg-type]
    assert rec is not None
    return rec


def upd(action: OrderAction, n: int = 0, at: datetime = T0) -> DispatchUpdate:
    return DispatchUpdate(
        update_id=f"u{n}-{action.value}",
        order_id="order-1",
        action=action,
        actor="w",
        event_time=at,
    )


def run(rec: OrderRecord, *actions: OrderAction, at: datetime = T0) -> OrderRecord:
    """The actions, each reported at ``at`` and processed then."""
    for i, a in enumerate(actions):
        step = lifecycle.apply_update(rec, upd(a, i, at), at)
        assert step.error is None, step.error
        assert step.record is not None
        rec = step.record
    return rec


def test_the_happy_path_meets_every_stage_and_breaches_nothing() -> None:
    A = OrderAction
    rec = run(opened(), A.SIGNED, A.ASSIGNED, A.ARRIVED, A.RESOLVED, A.FEEDBACK)
    assert rec.state is OrderState.CLOSED
    assert lifecycle.on_tick(rec, T0 + timedelta(days=30)).record is None


def test_an_unsigned_emergency_order_breaches_signed_at_five_minutes_once() -> None:
    rec = opened()
    assert lifecycle.on_tick(rec, T0 + timedelta(minutes=4, seconds=59)).record is None
    step = lifecycle.on_tick(rec, T0 + timedelta(minutes=5))
    assert [b.stage for b in step.breaches] == ["signed"]
    assert step.breaches[0].breach_id == lifecycle.breach_id("order-1", "signed")
    assert step.record is not None
    again = lifecycle.on_tick(step.record, T0 + timedelta(minutes=6))
    assert again.record is None and again.breaches == []


def test_signed_but_not_assigned_is_still_a_breach_and_late_signing_too() -> None:
    signed_only = run(opened(), OrderAction.SIGNED)
    assert [
        b.stage for b in lifecycle.on_tick(signed_only, T0 + timedelta(minutes=5)).breaches
    ] == ["signed"]
    late = run(opened(), OrderAction.SIGNED, OrderAction.ASSIGNED, at=T0 + timedelta(minutes=7))
    assert [b.stage for b in lifecycle.on_tick(late, T0 + timedelta(minutes=8)).breaches] == [
        "signed"
    ]


def test_a_stage_is_met_when_the_field_says_not_when_the_pipeline_gets_to_it() -> None:
    on_time = T0 + timedelta(minutes=4)
    processed = T0 + timedelta(minutes=9)  # a lagging pipeline
    rec = opened()
    for i, action in enumerate((OrderAction.SIGNED, OrderAction.ASSIGNED)):
        step = lifecycle.apply_update(rec, upd(action, i, on_time), processed)
        assert step.record is not None and step.statuses[0].event_time == on_time
        rec = step.record
    assert rec.met_at["signed"] == on_time
    assert lifecycle.on_tick(rec, T0 + timedelta(minutes=10)).breaches == []
    # an update claiming a time still to come counts as now
    future = lifecycle.apply_update(opened(), upd(OrderAction.SIGNED, 0, processed), on_time)
    assert future.statuses[0].event_time == on_time


def test_invalid_transitions_and_unknown_orders_are_errors_and_replays_are_ignored() -> None:
    rec = opened()
    assert lifecycle.apply_update(None, upd(OrderAction.SIGNED), T0).error[0] == "unknown_order"  # type: ignore[index]
    assert lifecycle.apply_update(rec, upd(OrderAction.FEEDBACK), T0).error[0] == (  # type: ignore[index]
        "invalid_transition"
    )
    signed = lifecycle.apply_update(rec, upd(OrderAction.SIGNED, 1), T0).record
    assert signed is not None
    replay = lifecycle.apply_update(signed, upd(OrderAction.SIGNED, 1), T0)
    assert replay.record is None and replay.error is None
    twice = lifecycle.apply_update(signed, upd(OrderAction.SIGNED, 2), T0)
    assert twice.error is not None and twice.error[0] == "invalid_transition"


def test_auto_disposal_recheck_resolves_a_recovered_sensor_and_escalates_otherwise() -> None:
    rec = opened(auto=True)
    assert rec.state is OrderState.AUTO_DISPOSING
    at = T0 + timedelta(minutes=2)
    recovered = lifecycle.sensor_health(rec, "s1", True)
    assert recovered is not None
    done = lifecycle.on_tick(recovered, at)
    assert done.record is not None and done.record.state is OrderState.AUTO_RESOLVED
    assert not done.escalate
    assert lifecycle.on_tick(done.record, T0 + timedelta(days=9)).record is None
    not_yet = lifecycle.on_tick(rec, at)
    assert not_yet.record is not None and not_yet.record.state is OrderState.OPEN
    assert not_yet.escalate and not_yet.record.escalated
    # The SLA clock kept running from the order's creation.
    assert [b.stage for b in lifecycle.on_tick(not_yet.record, T0 + timedelta(minutes=5)).breaches]


ACTIONS = st.lists(st.sampled_from(list(OrderAction)), max_size=8)
MINUTES = st.lists(st.integers(min_value=0, max_value=60 * 24 * 8), max_size=6)


@settings(max_examples=200, deadline=None)
@given(actions=ACTIONS, ticks=MINUTES, cls=st.sampled_from(list(SlaClass)))
def test_any_history_breaches_each_stage_at_most_once_and_never_early(
    actions: list[OrderAction], ticks: list[int], cls: SlaClass
) -> None:
    rec = opened(sla_class=cls)
    published: list[tuple[str, datetime]] = []
    events = [("u", a, i) for i, a in enumerate(actions)] + [("t", m, 0) for m in ticks]
    now = T0
    for kind, what, i in sorted(events, key=lambda e: (e[2] if e[0] == "u" else e[1], e[0])):
        if kind == "u":
            step = lifecycle.apply_update(rec, upd(what, i), now)  # type: ignore[arg-type]
        else:
            now = max(now, T0 + timedelta(minutes=what))  # type: ignore[arg-type]
            step = lifecycle.on_tick(rec, now)
            published += [(b.stage, b.deadline) for b in step.breaches]
            for b in step.breaches:
                assert now >= b.deadline
        if step.record is not None:
            assert lifecycle._ORDER.index(step.record.state) >= lifecycle._ORDER.index(rec.state)
            rec = step.record
    stages = [s for s, _ in published]
    assert len(stages) == len(set(stages))
    assert set(stages) <= set(sla.STAGE_LIMITS[cls])


STAGES = ["signed", "arrived", "resolved"]
OFFSET = st.integers(min_value=-10, max_value=60).map(lambda m: T0 + timedelta(minutes=m))


@st.composite
def records(draw: st.DrawFn) -> OrderRecord:
    """Any record the agent could hold: states, deadlines, met, breached, re-check."""
    stages = draw(st.lists(st.sampled_from(STAGES), unique=True))
    met = draw(st.lists(st.sampled_from(stages), unique=True)) if stages else []
    sensors = draw(st.dictionaries(st.sampled_from(["s1", "s2"]), st.booleans()))
    return OrderRecord(
        order_id="order-1",
        alert_id="alert-1",
        partition=0,
        sla_class=draw(st.sampled_from(list(SlaClass))),
        state=draw(st.sampled_from(list(OrderState))),
        deadlines={s: draw(OFFSET) for s in stages},
        escalate_to="x",
        receiver="y",
        channels=["sms"],
        met_at={s: draw(OFFSET) for s in met},
        breached=draw(st.lists(st.sampled_from(stages), unique=True)) if stages else [],
        recheck_at=draw(st.one_of(st.none(), OFFSET)),
        sensor_recovered=sensors,
    )


@given(rec=records(), now=OFFSET)
def test_a_tick_changes_a_record_exactly_from_its_next_due_time(
    rec: OrderRecord, now: datetime
) -> None:
    # the due index relies on this: a tick before next_due has nothing to do
    due = lifecycle.next_due(rec)
    changed = lifecycle.on_tick(rec, now).record is not None
    assert changed == (due is not None and now >= due)


def test_help_requested_hands_an_auto_disposal_order_to_a_person_at_once() -> None:
    rec = opened(auto=True)
    assert rec.state is OrderState.AUTO_DISPOSING and rec.recheck_at is not None
    step = lifecycle.apply_update(rec, upd(OrderAction.HELP_REQUESTED), T0 + timedelta(minutes=1))
    assert step.error is None and step.escalate
    assert step.record is not None
    assert step.record.state is OrderState.OPEN
    assert step.record.recheck_at is None and step.record.escalated
    assert [(s.state, s.cause) for s in step.statuses] == [(OrderState.OPEN, "help_requested")]
    # the re-check no longer runs: a person has it, with the SLA clock running
    later = lifecycle.on_tick(step.record, T0 + timedelta(minutes=3))
    assert later.record is None and not later.escalate
    # the same answer again is a replay; after the hand-over a new one changes nothing
    assert lifecycle.apply_update(step.record, upd(OrderAction.HELP_REQUESTED), T0).record is None
    again = lifecycle.apply_update(step.record, upd(OrderAction.HELP_REQUESTED, 9), T0)
    assert again.record is None and again.error is None


def test_help_requested_on_an_order_a_person_has_is_ignored_not_an_error() -> None:
    step = lifecycle.apply_update(opened(), upd(OrderAction.HELP_REQUESTED), T0)
    assert step.record is None and step.error is None and not step.escalate
