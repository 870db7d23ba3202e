"""Valid example events, one per topic model, shared by the schema tests.

Every example sets every optional field to a non-default value where one
exists, so a round trip exercises the whole model, not just its defaults.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas import (
    Alert,
    AlertKind,
    AutoDisposalPlan,
    CallOutcome,
    Channel,
    Contribution,
    DeadLetter,
    DeadLetterReason,
    DepartmentEvent,
    DispatchOrder,
    DispatchUpdate,
    DisposalWatch,
    NotificationReceipt,
    NotificationRequest,
    OrderAction,
    OrderState,
    OrderStatus,
    Portrait,
    ReceiptStatus,
    RiskSignal,
    ScopedSignal,
    ScopeKind,
    SensorHealth,
    SensorReading,
    SlaBreach,
    SlaClass,
    Tick,
)
from schemas.base import Event

T0 = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
#: A non-UTC offset: aware datetimes must keep working whatever the offset.
CST = timezone(timedelta(hours=8))


def build_examples() -> dict[type[Event], Event]:
    """Model class → one valid, fully populated instance."""
    payload = b'{"broken": '
    examples: list[Event] = [
        SensorReading(
            event_time=T0,
            reading_id="rd-0001",
            sensor_id="gas-7f:01",
            sensor_kind="gas_lel",
            place_id="place/hz-001",
            value=23.5,
            unit="%LEL",
            values={"temperature_c": 31.5, "humidity_pct": 60.0},
        ),
        DepartmentEvent(
            event_time=T0.astimezone(CST),
            event_id="fire-insp-42",
            department="fire",
            event_type="inspection_failed",
            place_id="place/hz-001",
            subject_id="firm@91330100",
            attributes={"inspector": "wang", "violations": 3, "score": 61.5, "closed": False},
        ),
        RiskSignal(
            event_time=T0,
            signal_id="sig-abc",
            risk_point="restaurant_gas_leak",
            module="gas_safety",
            detector_id="threshold.restaurant_gas_leak",
            detector_version=2,
            source_key="gas-7f:01",
            place_id="place/hz-001",
            severity="critical",
            emergency=True,
            score=23.5,
            threshold=20.0,
            baseline=3.25,
            indicators={"gas_lel": 23.5, "trend": -0.5},
            source_event_ids=["rd-0001", "rd-0002"],
            detected_at=T0 + timedelta(seconds=1),
        ),
        Alert(
            event_time=T0,
            alert_id="alert-abc",
            version=3,
            kind=AlertKind.COMPOUND,
            rule_id="gas_and_fire",
            level="high",
            emergency=True,
            auto_disposable=True,
            scope="place/hz-001",
            module="gas_safety",
            risk_points=["restaurant_gas_leak", "smoke_in_rental_flat"],
            labels={"module": "gas_safety", "emergency": "true"},
            signal_ids=["sig-abc", "sig-def"],
            source_keys=["gas-7f:01", "smoke-3a:02"],
            summary="Gas and smoke at place/hz-001 — 燃气与烟雾",
            scope_kind=ScopeKind.PLACE,
            window_start=T0.replace(minute=0, second=0, microsecond=0),
            window_end=T0.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1),
            portrait=Portrait(
                rule_kind="compound",
                score=4.0,
                threshold=2.0,
                members={"gas_safety": 1, "fire_safety": 1},
                signal_count=2,
                contributions=[
                    Contribution(
                        signal_id="sig-abc",
                        risk_point="restaurant_gas_leak",
                        module="gas_safety",
                        place_id="place/hz-001",
                        severity="critical",
                        score=1.0,
                        weight=2.0,
                        indicators={"value": 23.5},
                        source_event_ids=["rd-0001"],
                        event_time=T0,
                    )
                ],
                baseline=0.5,
            ),
            covers=["alert-single-1"],
            inhibited_by="alert-town-1",
        ),
        ScopedSignal(
            event_time=T0,
            scoped_id="scoped-1",
            scope_key="town:yuhang.wuchang",
            signal=RiskSignal(
                event_time=T0,
                signal_id="sig-abc",
                risk_point="restaurant_gas_leak",
                module="gas_safety",
                detector_id="threshold.restaurant_gas_leak",
                detector_version=1,
                source_key="gas-7f:01",
                place_id="place/hz-001",
                severity="critical",
                emergency=True,
                score=1.0,
                threshold=1.0,
                source_event_ids=["rd-0001"],
                detected_at=T0,
            ),
            grid_cell="cell-1",
            community="comm-1",
            town="yuhang.wuchang",
            district="yuhang",
            site="place/hz-001",
            industry="catering",
        ),
        DispatchOrder(
            event_time=T0,
            order_id="order-abc",
            alert_id="alert-abc",
            route="emergency_gas",
            receiver="gas_company_hotline",
            assignee_role="enterprise",
            channels=[Channel.SMS, Channel.VOICE],
            sla_class=SlaClass.EMERGENCY,
            deadlines={
                "signed": T0 + timedelta(minutes=5),
                "resolved": (T0 + timedelta(hours=24)).astimezone(CST),
            },
            summary="Gas leak",
            escalate_to="town_duty_office",
            auto_disposal=AutoDisposalPlan(
                party_concerned="site_contact",
                sensor_ids=["gas-7f:01", "smoke-3a:02"],
                risk_point="restaurant_gas_leak",
                healthy_readings=3,
                recheck_at=(T0 + timedelta(minutes=2)).astimezone(CST),
            ),
        ),
        DispatchUpdate(
            event_time=T0,
            update_id="upd-1",
            order_id="order-abc",
            action=OrderAction.ARRIVED,
            actor="worker:17",
            note="on site",
        ),
        SlaBreach(
            event_time=T0,
            breach_id="breach-1",
            order_id="order-abc",
            alert_id="alert-abc",
            stage="signed",
            deadline=T0 - timedelta(minutes=1),
            escalate_to="town_duty_office",
        ),
        OrderStatus(
            event_time=T0,
            status_id="status-1",
            order_id="order-abc",
            alert_id="alert-abc",
            state=OrderState.OPEN,
            previous=OrderState.AUTO_DISPOSING,
            cause="recheck",
            detail="sensor gas-7f:01 not recovered — 未恢复",
        ),
        DisposalWatch(
            event_time=T0,
            watch_id="watch-1",
            sensor_id="gas-7f:01",
            order_id="order-abc",
            risk_point="restaurant_gas_leak",
            healthy_readings=3,
            until=(T0 + timedelta(minutes=2)).astimezone(CST),
        ),
        SensorHealth(
            event_time=T0,
            health_id="health-1",
            order_id="order-abc",
            sensor_id="gas-7f:01",
            recovered=True,
            healthy_streak=3,
            reading_id="rd-0003",
        ),
        Tick(event_time=T0.astimezone(CST), partition="1"),
        NotificationRequest(
            event_time=T0,
            notification_id="ntf-1",
            idempotency_key="ntf-1",
            order_id="order-abc",
            alert_id="alert-abc",
            channel=Channel.VOICE,
            receiver="gas_company_hotline",
            recipient="+8657100000003",
            purpose="dispatch",
            message="yujing emergency order order-abc: Gas leak",
        ),
        NotificationReceipt(
            event_time=T0,
            receipt_id="rcpt-1",
            notification_id="ntf-1",
            order_id="order-abc",
            channel=Channel.VOICE,
            status=ReceiptStatus.DELIVERED,
            attempts=2,
            provider_message_id="call-0123456789abcdef",
            detail="call still ringing at timeout",
            call_outcome=CallOutcome.NO_ANSWER,
        ),
        DeadLetter(
            event_time=T0,
            dead_letter_id="dl-1",
            reason=DeadLetterReason.NOT_JSON,
            detail="Invalid JSON: EOF while parsing",
            stage="detect",
            source_topic="yujing.readings.v1",
            partition=1,
            offset=42,
            key_b64=base64.b64encode(b"gas-7f:01").decode(),
            payload_b64=base64.b64encode(payload).decode(),
            payload_size=len(payload),
        ),
    ]
    return {type(e): e for e in examples}


@pytest.fixture(scope="session")
def examples() -> dict[type[Event], Event]:
    """Model class → a valid instance of it."""
    return build_examples()
