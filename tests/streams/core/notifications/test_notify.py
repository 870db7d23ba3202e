"""Notification planning and phone masking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from districts import default_router
from hypothesis import given
from hypothesis import strategies as st

from schemas import Alert, AlertKind, Channel, DispatchOrder, NotificationRequest
from schemas.codec import decode, encode
from streams.core.notifications.plan import PURPOSE_DISPATCH, mask_phone, plan
from streams.core.orders.create import create_order
from streams.core.orders.routing import Router, RoutingConfig
from streams.core.shared.ids import stable_id

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

phones = st.from_regex(r"\+?[0-9]{5,20}", fullmatch=True)


def _router(channels: list[str]) -> Router:
    return Router(
        RoutingConfig.model_validate(
            {
                "version": 1,
                "receivers": [{"name": "duty", "role": "grid_worker", "phone": "+8613800000002"}],
                "route": {
                    "receiver": "duty",
                    "channels": channels,
                    "sla_class": "emergency",
                    "escalate_to": "duty",
                },
            }
        )
    )


def _alert(alert_id: str = "alert-1", summary: str = "gas at restaurant-7") -> Alert:
    return Alert(
        event_time=T0,
        alert_id=alert_id,
        kind=AlertKind.SINGLE,
        rule_id="single",
        level="critical",
        emergency=True,
        scope="restaurant-7",
        module="gas_safety",
        risk_points=["restaurant_gas_leak"],
        labels={"emergency": "true", "module": "gas_safety"},
        signal_ids=["sig-1"],
        summary=summary,
    )


def _order(router: Router, **kw: str) -> DispatchOrder:
    return create_order(router, _alert(**kw), T0)


@pytest.mark.parametrize("channels", [["sms"], ["voice"], ["sms", "voice"], []])
def test_one_request_per_channel(channels: list[str]) -> None:
    router = _router(channels)
    order = _order(router)
    requests = plan(order, router, T0 + timedelta(seconds=5))
    assert [r.channel for r in requests] == [Channel(c) for c in channels]
    assert len({r.notification_id for r in requests}) == len(channels)
    for r in requests:
        assert r.notification_id == stable_id(
            "ntf", order.order_id, r.channel.value, "duty", PURPOSE_DISPATCH
        )
        assert r.idempotency_key == r.notification_id
        assert r.order_id == order.order_id
        assert r.alert_id == order.alert_id
        assert r.receiver == "duty"
        assert router.receiver(r.receiver).phone == "+8613800000002"
        assert "+8613800000002" not in encode(r).decode()  # the number never travels
        assert r.purpose == PURPOSE_DISPATCH
        assert r.event_time == T0 + timedelta(seconds=5)
        assert decode(NotificationRequest, encode(r)) == r


def test_the_plan_is_deterministic_whenever_it_is_replayed() -> None:
    router = _router(["sms", "voice"])
    order = _order(router)
    first = plan(order, router, T0)
    again = plan(order, router, T0 + timedelta(hours=3))
    assert [r.notification_id for r in first] == [r.notification_id for r in again]
    assert [r.idempotency_key for r in first] == [r.idempotency_key for r in again]
    assert [r.message for r in first] == [r.message for r in again]
    assert plan(order, router, T0) == first


def test_different_orders_get_different_ids() -> None:
    router = _router(["sms"])
    a = plan(_order(router, alert_id="alert-1"), router, T0)
    b = plan(_order(router, alert_id="alert-2"), router, T0)
    assert a[0].notification_id != b[0].notification_id


def test_the_message_names_the_order_summary_and_deadline() -> None:
    router = default_router()
    order = create_order(router, _alert(), T0)
    (request,) = plan(order, router, T0)
    assert router.receiver(request.receiver).phone == "+8657100000003"  # the gas hotline
    assert request.message.startswith(f"yujing emergency order {order.order_id}: ")
    assert "gas at restaurant-7" in request.message
    assert "Sign for it by 2026-03-01 08:05 UTC." in request.message


@given(summary=st.text(alphabet=st.characters(codec="utf-8"), min_size=1900, max_size=2000))
def test_the_message_fits_in_2000_characters(summary: str) -> None:
    router = _router(["sms"])
    order = _order(router, summary=summary)
    (request,) = plan(order, router, T0)
    assert len(request.message) <= 2000
    assert request.message.startswith(f"yujing emergency order {order.order_id}: ")


def test_the_example_mask() -> None:
    assert mask_phone("+8613812345678") == "+861********78"
    assert mask_phone("123456") == "******"
    assert mask_phone("") == ""


@given(number=phones)
def test_mask_phone_reveals_at_most_the_prefix_and_last_two_digits(number: str) -> None:
    masked = mask_phone(number)
    assert len(masked) == len(number)
    if len(number) <= 6:
        assert masked == "*" * len(number)
        return
    assert masked[:4] == number[:4]
    assert masked[-2:] == number[-2:]
    assert set(masked[4:-2]) == {"*"}
    revealed = [c for c in masked if c != "*"]
    assert len(revealed) <= 6
    assert masked != number
