"""Order creation: one dispatch order per alert, from its route, the SLA and the clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from districts import default_router
from hypothesis import given
from hypothesis import strategies as st

from schemas import Alert, AlertKind, Channel, DispatchOrder, SlaClass
from schemas.codec import decode, encode
from streams.core.orders import sla
from streams.core.orders.create import create_order, order_id_for, route_label
from streams.core.shared.ids import stable_id

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _alert(alert_id: str = "alert-1", **labels: str) -> Alert:
    return Alert(
        event_time=T0,
        alert_id=alert_id,
        kind=AlertKind.SINGLE,
        rule_id="single",
        level="critical",
        emergency=labels.get("emergency") == "true",
        scope="restaurant-7",
        module=labels.get("module", "gas_safety"),
        risk_points=["restaurant_gas_leak"],
        labels=labels,
        signal_ids=["sig-1"],
        summary="gas at restaurant-7",
    )


def test_dispatch_builds_the_order_from_the_route_and_sla() -> None:
    router = default_router()
    alert = _alert(emergency="true", module="gas_safety")
    now = T0 + timedelta(seconds=42)
    order = create_order(router, alert, now)
    assert order.order_id == stable_id("order", alert.alert_id)
    assert order.alert_id == alert.alert_id
    assert order.route == "emergency_gas"
    assert order.receiver == "gas_company_hotline"
    assert order.assignee_role == "enterprise"
    assert order.channels == [Channel.SMS]
    assert order.sla_class is SlaClass.EMERGENCY
    assert order.deadlines == sla.deadlines(SlaClass.EMERGENCY, now)
    assert order.deadlines["signed"] == now + timedelta(minutes=5)
    assert order.summary == alert.summary
    # restaurant-7 is no place of the district model: no town office, so its department
    assert order.escalate_to == "dept.gas"
    assert (order.department, order.town) == ("gas", None)
    assert order.auto_disposal is None  # not auto-disposable: a person first
    assert order.event_time == now
    assert decode(DispatchOrder, encode(order)) == order


def test_non_emergency_orders_get_non_emergency_deadlines() -> None:
    order = create_order(default_router(), _alert(emergency="false"), T0)
    assert order.sla_class is SlaClass.NON_EMERGENCY
    assert set(order.deadlines) == {"signed", "resolved"}
    assert order.deadlines["resolved"] == T0 + timedelta(days=7)


label_values = st.sampled_from(["true", "false", "gas_safety", "fire_safety", "x"])


@given(
    alert_id=st.from_regex(r"[A-Za-z0-9._:@/\-]{1,40}", fullmatch=True),
    labels_a=st.dictionaries(st.sampled_from(["emergency", "module", "z"]), label_values),
    labels_b=st.dictionaries(st.sampled_from(["emergency", "module", "z"]), label_values),
    offset=st.integers(min_value=0, max_value=10**6),
)
def test_the_order_id_depends_only_on_the_alert_id(
    alert_id: str, labels_a: dict[str, str], labels_b: dict[str, str], offset: int
) -> None:
    router = default_router()
    a = create_order(router, _alert(alert_id, **labels_a), T0)
    b = create_order(router, _alert(alert_id, **labels_b), T0 + timedelta(seconds=offset))
    assert a.order_id == b.order_id == stable_id("order", alert_id)
    other = create_order(router, _alert(alert_id + "x", **labels_a), T0)
    assert other.order_id != a.order_id


@given(offset=st.integers(min_value=0, max_value=10**8), hours=st.integers(-12, 14))
def test_deadlines_follow_the_dispatch_time(offset: int, hours: int) -> None:
    now = (T0 + timedelta(seconds=offset)).astimezone(timezone(timedelta(hours=hours)))
    order = create_order(default_router(), _alert(emergency="true"), now)
    assert order.deadlines == sla.deadlines(order.sla_class, now)
    assert all(d > now for d in order.deadlines.values())


@given(st.text(max_size=200))
def test_route_labels_are_schema_safe_tokens(name: str) -> None:
    # a route named in Chinese must still give an order the schema accepts
    label = route_label(name)
    assert re.fullmatch(r"[a-z0-9_.\-]{1,64}", label), label
    order = create_order(default_router(), _alert(), T0)
    assert DispatchOrder.model_validate({**order.model_dump(), "route": label}).route == label


def test_the_order_id_is_the_one_the_rest_of_the_flow_derives() -> None:
    # tracking, notifications and the report find an order by this id
    assert order_id_for("alert-x") == stable_id("order", "alert-x")
