"""``yujing tail``: readable blocks per event kind, scope filters, topic names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas import Alert, AlertKind, DispatchOrder, OrderState, OrderStatus, SlaBreach, SlaClass
from schemas.codec import encode
from schemas.notification import Channel
from schemas.registry import ALERTS, DISPATCH_ORDERS, ORDER_STATUS, SLA_BREACHES
from streams.core.shared.config import ConfigError
from streams.tools.tail import Formatter, Scope, Tail, resolve_topic

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def alert(place: str = "site.liangzhu.c01.restaurant-01", level: str = "critical") -> Alert:
    return Alert(
        alert_id=f"al-{place}-{level}",
        kind=AlertKind.SINGLE,
        rule_id="single.restaurant_gas_leak",
        level=level,  # type: ignore[arg-type]
        emergency=True,
        scope=place,
        module="gas_safety",
        risk_points=["restaurant_gas_leak"],
        signal_ids=["sig-1"],
        summary="Gas at 31 %LEL (limit 20) in the kitchen",
        event_time=T0,
    )


def order(alert_id: str) -> DispatchOrder:
    return DispatchOrder(
        order_id="ord-1",
        alert_id=alert_id,
        route="gas",
        receiver="gas-company",
        assignee_role="duty_engineer",
        channels=[Channel.SMS],
        sla_class=SlaClass.EMERGENCY,
        deadlines={"signed": T0 + timedelta(minutes=5), "arrived": T0 + timedelta(minutes=20)},
        summary="Gas leak at the noodle house",
        escalate_to="town-command",
        event_time=T0,
    )


def test_alert_block_says_what_where_how_bad_and_why() -> None:
    text = Formatter().format(alert())
    assert "ALERT CRITICAL" in text and "gas_safety: restaurant_gas_leak EMERGENCY" in text
    assert "site.liangzhu.c01.restaurant-01 (town liangzhu)" in text
    assert "why    Gas at 31 %LEL" in text
    assert "\x1b[" not in text and "\x1b[" in Formatter(color=True).format(alert())


def test_orders_breaches_and_status_show_their_alert_as_context() -> None:
    a = alert()
    tail = Tail(DISPATCH_ORDERS, Scope(), Formatter())
    tail.on_alert(a)
    block = tail.render(encode(order(a.alert_id)))
    assert block is not None
    assert "ORDER ord-1 emergency" in block and "gas-company (duty_engineer) via sms" in block
    assert "signed by 03-02 09:35" in block and "[critical] gas_safety at site.liangzhu" in block
    breach = SlaBreach(
        breach_id="br-1",
        order_id="ord-1",
        alert_id=a.alert_id,
        stage="signed",
        deadline=T0 + timedelta(minutes=5),
        escalate_to="town-command",
        event_time=T0 + timedelta(minutes=5),
    )
    text = Tail(SLA_BREACHES, Scope(), Formatter()).render(encode(breach))
    assert text is not None and "SLA BREACH ord-1: stage signed" in text
    status = OrderStatus(
        status_id="st-1",
        order_id="ord-1",
        alert_id=a.alert_id,
        state=OrderState.SIGNED,
        previous=OrderState.OPEN,
        cause="signed",
        event_time=T0,
    )
    text = Tail(ORDER_STATUS, Scope(), Formatter()).render(encode(status))
    assert text is not None and "STATUS ord-1: open → signed (signed)" in text


def test_scope_filters_by_place_town_module_and_level() -> None:
    a = alert("site.liangzhu.c01.restaurant-01", "high")
    assert Scope(place="site.liangzhu.c01").matches(a)
    assert not Scope(place="site.renhe").matches(a)
    assert Scope(town="liangzhu").matches(a) and not Scope(town="renhe").matches(a)
    assert Scope(module="gas_safety").matches(a) and not Scope(module="fire_safety").matches(a)
    assert Scope(level="medium").matches(a) and Scope(level="high").matches(a)
    assert not Scope(level="critical").matches(a)
    with pytest.raises(ConfigError, match="--level"):
        Scope(level="severe")


def test_filtered_orders_follow_their_alerts_scope() -> None:
    inside, outside = alert("site.liangzhu.c01.a"), alert("site.renhe.c01.b")
    tail = Tail(DISPATCH_ORDERS, Scope(town="liangzhu"), Formatter())
    tail.on_alert(inside)
    tail.on_alert(outside)
    assert tail.render(encode(order(inside.alert_id))) is not None
    assert tail.render(encode(order(outside.alert_id))) is None
    assert tail.render(encode(order("al-never-seen"))) is None
    alerts = Tail(ALERTS, Scope(town="liangzhu"), Formatter())
    assert alerts.render(encode(inside)) is not None and alerts.render(encode(outside)) is None
    assert alerts.render(b"{not json") is None
    assert "undecodable" in (Tail(ALERTS, Scope(), Formatter()).render(b"{") or "")


def test_topics_by_alias_short_or_full_name() -> None:
    assert resolve_topic("alerts") is ALERTS
    assert resolve_topic("sla-breaches") is SLA_BREACHES
    assert resolve_topic("yujing.order-status.v1") is ORDER_STATUS
    with pytest.raises(ConfigError, match="unknown topic"):
        resolve_topic("alarms")
