"""Builders of the events a daily report reads, for tests of ``streams.tools.report.figures``.

Each builder gives a valid event of the topic's schema with only what a test
cares about to set; times are minutes after :data:`T0`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas import (
    Alert,
    AlertKind,
    AutoDisposalPlan,
    Channel,
    Contribution,
    DispatchOrder,
    NotificationReceipt,
    NotificationRequest,
    OrderState,
    OrderStatus,
    Portrait,
    ReceiptStatus,
    ScopeKind,
    SlaBreach,
    SlaClass,
)
from streams.core.orders import sla
from streams.core.shared.ids import stable_id

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def alert(
    n: int,
    minute: float = 0.0,
    *,
    level: str = "high",
    module: str = "gas_safety",
    risk_point: str = "restaurant_gas_leak",
    place: str = "site.linping.c01.restaurant-01",
    sensor: str = "gas_lel-00001",
    version: int = 1,
    inhibited_by: str | None = None,
) -> Alert:
    """A single alert at a place, raised by one sensor."""
    return Alert(
        alert_id=f"alert-{n}",
        version=version,
        kind=AlertKind.SINGLE,
        rule_id="single_risk",
        level=level,  # type: ignore[arg-type]
        emergency=level == "critical",
        scope=place,
        module=module,
        risk_points=[risk_point],
        labels={"module": module},
        signal_ids=[f"sig-{n}"],
        source_keys=[sensor],
        summary=f"alert {n}",
        event_time=at(minute),
        inhibited_by=inhibited_by,
    )


def systemic(
    n: int,
    rule_kind: str,
    scope_kind: ScopeKind,
    scope: str,
    window: tuple[float, float],
    minute: float,
    places: list[tuple[str, str, str]],
) -> Alert:
    """A systemic alert over ``places`` (place, module, risk point) in a window of minutes."""
    contributions = [
        Contribution(
            signal_id=f"sig-{n}-{i}",
            risk_point=rp,
            module=module,
            place_id=place,
            severity="high",
            score=1.0,
            weight=1.0,
            source_event_ids=[f"ev-{n}-{i}"],
            event_time=at(minute),
        )
        for i, (place, module, rp) in enumerate(places)
    ]
    return Alert(
        alert_id=f"alert-{n}",
        kind=AlertKind.SYSTEMIC,
        rule_id=f"{rule_kind}_rule",
        level="high",
        emergency=False,
        scope=scope,
        module=places[0][1],
        risk_points=sorted({rp for _, _, rp in places}),
        signal_ids=[c.signal_id for c in contributions],
        source_keys=[f"sensor-{n}-{i}" for i in range(len(places))],
        summary=f"systemic {n}",
        event_time=at(minute),
        scope_kind=scope_kind,
        window_start=at(window[0]),
        window_end=at(window[1]),
        portrait=Portrait(
            rule_kind=rule_kind,  # type: ignore[arg-type]
            score=float(len(places)),
            threshold=3.0,
            signal_count=len(places),
            contributions=contributions,
        ),
    )


def order(
    a: Alert,
    minute: float,
    *,
    sla_class: SlaClass = SlaClass.EMERGENCY,
    auto: bool = False,
    receiver: str = "grid_worker_on_duty",
    role: str = "grid_worker",
    **extra: Any,
) -> DispatchOrder:
    created = at(minute)
    plan = None
    if auto:
        plan = AutoDisposalPlan(
            party_concerned="site_contact",
            sensor_ids=list(a.source_keys) or ["s"],
            risk_point=a.risk_points[0],
            healthy_readings=3,
            recheck_at=created + timedelta(minutes=2),
        )
    return DispatchOrder(
        order_id=stable_id("order", a.alert_id),
        alert_id=a.alert_id,
        route="test",
        receiver=receiver,
        assignee_role=role,
        channels=[Channel.SMS],
        sla_class=sla_class,
        deadlines=sla.deadlines(sla_class, created),
        summary=a.summary,
        escalate_to="town_duty_office",
        auto_disposal=plan,
        event_time=created,
        **extra,
    )


def status(o: DispatchOrder, state: OrderState, minute: float, cause: str = "") -> OrderStatus:
    return OrderStatus(
        status_id=stable_id("status", o.order_id, state.value),
        order_id=o.order_id,
        alert_id=o.alert_id,
        state=state,
        cause=cause or state.value,
        event_time=at(minute),
    )


def breach(o: DispatchOrder, stage: str) -> SlaBreach:
    deadline = o.deadlines[stage]
    return SlaBreach(
        breach_id=stable_id("breach", o.order_id, stage),
        order_id=o.order_id,
        alert_id=o.alert_id,
        stage=stage,
        deadline=deadline,
        escalate_to=o.escalate_to,
        event_time=deadline,
    )


def notification(o: DispatchOrder, purpose: str = "dispatch") -> NotificationRequest:
    nid = stable_id("ntf", o.order_id, purpose)
    return NotificationRequest(
        notification_id=nid,
        idempotency_key=nid,
        order_id=o.order_id,
        alert_id=o.alert_id,
        channel=Channel.SMS,
        receiver=o.receiver,
        purpose=purpose,
        message="go",
        event_time=o.event_time,
    )


def receipt(n: NotificationRequest, delivered: bool = True) -> NotificationReceipt:
    st = ReceiptStatus.DELIVERED if delivered else ReceiptStatus.FAILED
    return NotificationReceipt(
        receipt_id=stable_id("rcpt", n.notification_id, st.value),
        notification_id=n.notification_id,
        order_id=n.order_id,
        channel=n.channel,
        status=st,
        attempts=1,
        event_time=n.event_time,
    )
