"""The machine re-check on a real broker, for detector kinds other than a fixed limit.

A seasonal point (gas use unusual for the hour) and a rate point (repeated
construction complaints at a site, from department records keyed by place):
for each, one stream turns healthy after its order (readings back to normal
for the hour; the complaints stop) and its order ends ``auto_resolved``, and
one stays unhealthy (the flow stays up; complaints keep coming after the
order) and its order is escalated to a person at the re-check. Worker and
sinks are real processes; the clock runs 60 times as fast (the one-hour
non-emergency re-check of the test routes is 10 minutes: 10 wall seconds).
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import pytest

from schemas import (
    DepartmentEvent,
    DispatchOrder,
    OrderState,
    OrderStatus,
    SensorHealth,
    SensorReading,
)
from schemas.registry import DISPATCH_ORDERS, DISPOSAL_CHECKS, ORDER_STATUS

pytestmark = pytest.mark.integration

#: the readings' and records' event time: real time, minutes apart, ending now
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def flow(sensor: str, t: datetime, value: float) -> SensorReading:
    return SensorReading(
        reading_id=f"{sensor}-{t:%Y%m%d%H%M}",
        sensor_id=sensor,
        sensor_kind="gas_flow_m3h",
        place_id=f"kitchen.{sensor}",
        value=value,
        event_time=t,
    )


def normal_flow(t: datetime) -> float:
    """A restaurant's gas use: a daily rhythm, peaking at noon local time, and a flutter of
    ±0.3 (bounded, so that no reading of the normal day is a genuine outlier)."""
    hour = (t.hour + 8) % 24 + t.minute / 60
    flutter = 0.3 if (t.minute // 10) % 2 else -0.3
    return 3.0 + 2.0 * math.cos(2 * math.pi * (hour - 12) / 24) + flutter


def complaint(site: str, t: datetime, n: str) -> DepartmentEvent:
    return DepartmentEvent(
        event_id=f"{site}-{n}",
        department="urban_management",
        event_type="construction_complaint",
        place_id=f"site.{site}",
        subject_id=f"builder.{site}",
        event_time=t,
    )


def simulated_now(stack) -> datetime:  # type: ignore[no-untyped-def]
    """The worker's clock now (its settings: epoch + (wall - epoch) * speed)."""
    epoch = float(stack.env["YUJING_CLOCK_EPOCH"])
    speed = float(stack.env["YUJING_CLOCK_SPEED"])
    return datetime.fromtimestamp(epoch + (time.time() - epoch) * speed, UTC)


def orders_at(stack, place: str) -> list[DispatchOrder]:
    return [o for o in stack.read(DISPATCH_ORDERS, DispatchOrder) if f" at {place}:" in o.summary]


def test_seasonal_and_rate_orders_auto_resolve_when_healthy_and_escalate_when_not(
    stack_factory,
) -> None:
    stack = stack_factory(sinks_args=["--voice-outcomes", "handled=1"])
    # -- three days of normal gas use every 10 minutes (the catalogue's detector learns two
    # before it judges), then both kitchens' flow jumps
    start = NOW - timedelta(days=3)
    history = [start + timedelta(minutes=10 * i) for i in range(3 * 144)]
    alarm_at = history[-1] + timedelta(minutes=10)
    readings = [flow(s, t, normal_flow(t)) for t in history for s in ("flow-ok", "flow-bad")]
    readings += [flow(s, alarm_at, normal_flow(alarm_at) + 15.0) for s in ("flow-ok", "flow-bad")]
    # -- a site with a complaint every three days for a month, then a burst yesterday
    day = datetime(NOW.year, NOW.month, NOW.day, tzinfo=UTC) - timedelta(days=1)
    records = [
        complaint(s, day - timedelta(days=30) + timedelta(days=3 * i), f"h{i}")
        for i in range(10)
        for s in ("cc-ok", "cc-bad")
    ]
    records += [
        complaint(s, day + timedelta(hours=1, minutes=10 * i), f"b{i}")
        for i in range(6)
        for s in ("cc-ok", "cc-bad")
    ]
    stack.produce(*readings, *records)

    def order(place: str, first: datetime, last: datetime) -> DispatchOrder:
        """The order of the alarm in [first, last] (event time). (Any other order the
        history raises is re-checked too, and is not one this test follows.)"""

        def find() -> list[DispatchOrder]:
            return [
                o
                for o in orders_at(stack, place)
                if o.auto_disposal is not None
                and o.auto_disposal.since is not None
                and first <= o.auto_disposal.since <= last
            ]

        return stack.wait_for(find, 90, f"the order for {place}")[0]

    flow_ok = order("kitchen.flow-ok", alarm_at, alarm_at)
    flow_bad = order("kitchen.flow-bad", alarm_at, alarm_at)
    burst = (day + timedelta(hours=1), day + timedelta(hours=2))
    cc_ok, cc_bad = order("site.cc-ok", *burst), order("site.cc-bad", *burst)

    for o in (flow_ok, flow_bad):
        assert o.auto_disposal is not None and o.auto_disposal.risk_point == "gas_use_unusual"
    for o in (cc_ok, cc_bad):
        assert o.auto_disposal is not None
        assert o.auto_disposal.risk_point == "construction_complaints"
        assert o.auto_disposal.place_id in ("site.cc-ok", "site.cc-bad")

    # After the orders: kitchen ok is back to its normal use for the hour, kitchen bad stays
    # up; complaints stop at site ok and keep coming at site bad (event time after its order).
    def statuses() -> dict[str, list[OrderStatus]]:
        out: dict[str, list[OrderStatus]] = {}
        for s in stack.read(ORDER_STATUS, OrderStatus, timeout_s=1.0):
            out.setdefault(s.order_id, []).append(s)
        return out

    orders = (flow_ok, flow_bad, cc_ok, cc_bad)
    decided: dict[str, list[OrderStatus]] = {}
    deadline = time.monotonic() + 60
    t, n = alarm_at, 0
    while time.monotonic() < deadline:
        t, n = t + timedelta(minutes=10), n + 1
        stack.produce(
            flow("flow-ok", t, normal_flow(t)),
            flow("flow-bad", t, normal_flow(t) + 15.0),
            # as the clock goes: through the re-check delay's second half, when the
            # records must be quiet (the first half is the party's to act in)
            complaint("cc-bad", max(simulated_now(stack), cc_bad.event_time), f"after{n}"),
        )
        decided = statuses()
        if all(any(s.cause == "recheck" for s in decided.get(o.order_id, [])) for o in orders):
            break
        time.sleep(1.0)

    def states(o: DispatchOrder) -> list[OrderState]:
        return [s.state for s in decided.get(o.order_id, [])]

    assert states(flow_ok) == [OrderState.AUTO_DISPOSING, OrderState.AUTO_RESOLVED]
    assert states(cc_ok) == [OrderState.AUTO_DISPOSING, OrderState.AUTO_RESOLVED]
    assert states(flow_bad) == [OrderState.AUTO_DISPOSING, OrderState.OPEN]
    assert states(cc_bad) == [OrderState.AUTO_DISPOSING, OrderState.OPEN]
    for o in orders:
        recheck = next(s for s in decided[o.order_id] if s.cause == "recheck")
        assert o.auto_disposal is not None and recheck.event_time >= o.auto_disposal.recheck_at

    # The verdicts behind them, as the watched side sent them.
    verdicts: dict[str, list[SensorHealth]] = {}
    for h in stack.read(DISPOSAL_CHECKS, SensorHealth):
        verdicts.setdefault(h.order_id, []).append(h)
    assert [h.recovered for h in verdicts[flow_ok.order_id]][-1] is True
    assert verdicts[flow_ok.order_id][-1].healthy_streak >= 3
    assert not [h for h in verdicts.get(flow_bad.order_id, []) if h.recovered]
    assert [(h.watched, h.sensor_id, h.recovered) for h in verdicts[cc_ok.order_id]] == [
        ("place", "site.cc-ok", True)
    ]
    assert [h.recovered for h in verdicts[cc_bad.order_id]] == [True, False]

    # Only the two that stayed unhealthy reach a person.
    escalated = stack.wait_for(
        lambda: (
            (m := [x for x in stack.sms_messages() if "automatic disposal" in x["text"]])
            and len(m) >= 2
            and m
        ),
        20,
        "the escalated dispatches",
    )
    texts = " | ".join(m["text"] for m in escalated)
    assert flow_bad.order_id in texts and cc_bad.order_id in texts
    assert flow_ok.order_id not in texts and cc_ok.order_id not in texts
