"""The single-risk rule: one signal, one labelled alert with a readable summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from districts import default_directory

from schemas import Alert, AlertKind, RiskSignal, SensorReading
from schemas.codec import decode, encode
from streams.core.alerts.single import RULE_ID, SingleRiskRule
from streams.core.orders.create import create_order
from streams.core.orders.routing import Router, load_routing
from streams.core.shared.catalogue import load_catalogue
from streams.core.shared.ids import stable_id
from streams.core.signals.detect import Detection

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _signal(**overrides: object) -> RiskSignal:
    fields: dict[str, object] = {
        "event_time": T0,
        "signal_id": "sig-1",
        "risk_point": "restaurant_gas_leak",
        "module": "gas_safety",
        "detector_id": "threshold.restaurant_gas_leak",
        "detector_version": 1,
        "source_key": "gas-1",
        "place_id": "restaurant-7",
        "severity": "critical",
        "emergency": True,
        "score": 0.675,
        "threshold": 0.5,
        "baseline": 10.0,
        "indicators": {"value": 23.5, "upper": 20.0, "clear": 10.0},
        "source_event_ids": ["rd-1"],
        "detected_at": T0 + timedelta(seconds=2),
    }
    return RiskSignal.model_validate(fields | overrides)


@pytest.fixture(scope="module")
def rule() -> SingleRiskRule:
    return SingleRiskRule(load_catalogue())


def test_labels_carry_module_risk_point_level_emergency_and_place(rule: SingleRiskRule) -> None:
    alert = rule.on_signal(_signal())
    assert alert.labels == {
        "industry": "catering",  # from the catalogue entry
        "module": "gas_safety",
        "risk_point": "restaurant_gas_leak",
        "level": "critical",
        "emergency": "true",
        "place": "restaurant-7",
    }


def test_a_non_emergency_signal_is_labelled_false(rule: SingleRiskRule) -> None:
    alert = rule.on_signal(
        _signal(
            risk_point="river_level_high",
            module="flood_control",
            severity="medium",
            emergency=False,
            indicators={"value": 4.6, "upper": 4.5, "clear": 4.2},
        )
    )
    assert alert.labels["emergency"] == "false"
    assert alert.labels["level"] == "medium"
    assert alert.emergency is False
    assert alert.auto_disposable is True  # river_level_high is auto-disposable


def test_the_summary_says_what_where_how_bad_and_why(rule: SingleRiskRule) -> None:
    summary = rule.on_signal(_signal()).summary
    assert summary.startswith("[CRITICAL] Combustible gas in a restaurant kitchen")
    assert "at restaurant-7" in summary
    assert "score 0.675 >= 0.5" in summary
    assert "value=23.5, upper=20, clear=10" in summary
    assert "threshold.restaurant_gas_leak v1" in summary
    assert "gas-1" in summary
    assert "rd-1" in summary


def test_the_alert_fields(rule: SingleRiskRule) -> None:
    signal = _signal()
    alert = rule.on_signal(signal)
    assert alert.alert_id == stable_id("alert", RULE_ID, signal.signal_id)
    assert alert.version == 1
    assert alert.kind is AlertKind.SINGLE
    assert alert.rule_id == RULE_ID
    assert alert.level == "critical"
    assert alert.emergency is True
    assert alert.auto_disposable is False
    assert alert.scope == "restaurant-7"
    assert alert.module == "gas_safety"
    assert alert.risk_points == ["restaurant_gas_leak"]
    assert alert.signal_ids == ["sig-1"]
    assert alert.event_time == signal.event_time
    assert decode(Alert, encode(alert)) == alert


def test_the_alert_id_is_deterministic(rule: SingleRiskRule) -> None:
    a = rule.on_signal(_signal())
    b = SingleRiskRule(load_catalogue()).on_signal(_signal(detected_at=T0 + timedelta(hours=1)))
    c = rule.on_signal(_signal(signal_id="sig-2"))
    assert a == b
    assert a.alert_id != c.alert_id


def test_a_signal_for_an_unknown_risk_point_is_refused(rule: SingleRiskRule) -> None:
    with pytest.raises(KeyError):
        rule.on_signal(_signal(risk_point="retired_point"))


def test_reading_to_notification_ids_are_replay_stable() -> None:
    """The core flow end to end: replaying a reading reproduces every id."""
    from streams.core.notifications.plan import plan

    catalogue, routes = load_catalogue(), load_routing()
    reading = SensorReading(
        event_time=T0,
        reading_id="rd-9",
        sensor_id="gas-1",
        sensor_kind="gas_lel",
        place_id="restaurant-7",
        value=31.0,
    )

    def flow(now: datetime) -> list[str]:
        _, (signal,) = Detection(catalogue).on_reading(reading, None, now)
        alert = SingleRiskRule(catalogue).on_signal(signal)
        router = Router(routes, default_directory())
        order = create_order(router, alert, now)
        assert order.receiver == "gas_company_hotline"
        ids = [signal.signal_id, alert.alert_id, order.order_id]
        return ids + [r.idempotency_key for r in plan(order, router, now)]

    assert flow(T0) == flow(T0 + timedelta(days=1))


def test_any_valid_signal_makes_a_valid_alert(rule: SingleRiskRule) -> None:
    signal = _signal(source_event_ids=[f"{i:03d}" + "e" * 125 for i in range(64)])
    alert = rule.on_signal(signal)
    assert len(alert.summary) <= 2000
