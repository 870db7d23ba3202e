"""What the console shows of an order (core/orders/view.py): next stage, deadline, breaches.

From the tracker's records as they sit in the ``orders`` table: the stage due next
and its deadline in UTC, the breached stages, receivers masked; an alert's order found
by its id; open orders most urgent first, capped, only of the partitions held.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from streams.core.orders.create import order_id_for
from streams.core.orders.lifecycle import OrderRecord
from streams.core.orders.view import mask_receiver, open_orders, order_view, orders_for_alerts

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def record(alert_id: str, state: str = "open", partition: int = 0, **kw: object) -> dict:
    rec = OrderRecord(
        order_id=order_id_for(alert_id),
        alert_id=alert_id,
        partition=partition,
        sla_class="emergency",  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        deadlines={
            "signed": T0 + timedelta(minutes=5),
            "arrived": T0 + timedelta(minutes=20),
            "resolved": T0 + timedelta(hours=24),
        },
        escalate_to="town.wuchang",
        receiver="grid.cell.wuchang.wuchang-2.01",
        channels=["sms"],
        **kw,  # type: ignore[arg-type]
    )
    return rec.to_json()


def test_the_next_stage_its_deadline_in_utc_and_the_breaches() -> None:
    raw = record("a1", met_at={"signed": T0}, breached=["arrived"])
    view = order_view(raw)
    assert (view["stage"], view["deadline"]) == ("arrived", "2026-03-01T00:20:00Z")
    assert view["breached"] == ["arrived"]
    assert [(s["stage"], s["breached"]) for s in view["stages"]] == [
        ("signed", False),
        ("arrived", True),
        ("resolved", False),
    ]
    assert view["receiver"] == "grid.***.01" and view["escalate_to"] == "town.***"
    done = order_view(
        record("a2", state="closed", met_at=dict.fromkeys(("signed", "arrived", "resolved"), T0))
    )
    assert (done["stage"], done["deadline"]) == (None, None)


def test_receivers_are_masked_whatever_they_look_like() -> None:
    assert mask_receiver("party.site.linping.c01.restaurant-01") == "party.***.restaurant-01"
    assert mask_receiver("+8613812345678") == "+861********78"
    assert mask_receiver("dept.gas") == "dept.***"
    assert mask_receiver("nobody") == "***"


def test_an_alerts_order_is_found_by_the_alerts_id_on_the_partitions_held() -> None:
    table = {r["order_id"]: r for r in (record("a1"), record("a2", partition=1))}
    assert [o["alert_id"] for o in orders_for_alerts(table, ["a1", "a2", "a9"], [0])] == ["a1"]
    assert len(orders_for_alerts(table, ["a1", "a1", "a2"], [0, 1])) == 2


def test_open_orders_most_urgent_first_capped() -> None:
    records = [
        record("late", met_at={"signed": T0}),
        record("soon"),
        record("done", state="auto_resolved"),
        record("elsewhere", partition=3),
    ]
    found, total = open_orders(records, [0])
    assert [o["alert_id"] for o in found] == ["soon", "late"] and total == 2
    capped, total = open_orders(records, [0], limit=1)
    assert [o["alert_id"] for o in capped] == ["soon"] and total == 2
    assert datetime.fromisoformat(found[0]["deadline"]).tzinfo == UTC
