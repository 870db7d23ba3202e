"""The due index (streams.core.orders.due): which orders a tick must look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from schemas import OrderState
from streams.core.orders import lifecycle
from streams.core.orders.due import DueIndex
from streams.core.orders.lifecycle import OrderRecord

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def rec(order_id: str, minutes: int, partition: int = 0, **kw: object) -> OrderRecord:
    fields: dict[str, object] = {
        "order_id": order_id,
        "alert_id": "a",
        "partition": partition,
        "sla_class": "emergency",
        "state": "open",
        "deadlines": {"signed": T0 + timedelta(minutes=minutes)},
        "escalate_to": "x",
        "receiver": "y",
        "channels": ["sms"],
    }
    return OrderRecord.model_validate({**fields, **kw})


def test_due_orders_come_earliest_first_and_only_from_their_partition() -> None:
    index = DueIndex()
    index.build(0, [rec("b", 5), rec("a", 5), rec("c", 1), rec("late", 90)])
    index.build(1, [rec("other", 0, partition=1)])
    assert index.due(0, T0 + timedelta(minutes=5)) == ["c", "a", "b"]
    assert index.due(1, T0) == ["other"]
    assert index.pending(0) == 4


def test_writes_move_an_order_and_finished_ones_leave() -> None:
    index = DueIndex()
    index.build(0, [rec("o", 5)])
    index.put(rec("o", 5, breached=["signed"]))  # breached: nothing more due
    assert index.due(0, T0 + timedelta(days=30)) == []
    assert index.pending(0) == 0
    index.put(rec("n", 7))
    index.put(rec("n", 7, state=OrderState.ASSIGNED.value, met_at={"signed": T0}))
    assert index.pending(0) == 0


def test_writes_before_a_build_are_left_to_the_build_and_forget_drops_all() -> None:
    index = DueIndex()
    index.put(rec("o", 5))
    assert not index.built(0) and index.due(0, T0 + timedelta(hours=1)) == []
    index.build(0, [rec("o", 5)])
    index.forget()
    assert not index.built(0)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.integers(min_value=0, max_value=30),
            st.booleans(),
        ),
        max_size=60,
    ),
    st.integers(min_value=0, max_value=30),
)
def test_due_matches_brute_force_after_any_writes(
    writes: list[tuple[str, int, bool]], at: int
) -> None:
    index = DueIndex()
    index.build(0, [])
    latest: dict[str, OrderRecord] = {}
    for i, (oid, minutes, done) in enumerate(writes):
        r = rec(oid, minutes, breached=["signed"] if done else [])
        index.put(r)
        latest[oid] = r
        if i % 7 == 0:  # ticks in between leave everything indexed
            index.due(0, T0 + timedelta(minutes=at))
    now = T0 + timedelta(minutes=at)
    expected = sorted(
        (due, oid)
        for oid, r in latest.items()
        if (due := lifecycle.next_due(r)) is not None and due <= now
    )
    assert index.due(0, now) == [oid for _, oid in expected]
    assert index.due(0, now) == [oid for _, oid in expected]  # asking again: the same
