"""Auto-disposal counting, routing validation of the new fields, and the scaled clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import Alert, AlertKind, DisposalWatch, SensorReading
from streams.core import disposal
from streams.core.catalogue import load_catalogue
from streams.core.clock import ScaledClock, make_clock
from streams.core.config import ConfigError
from streams.core.routing import Router, RoutingConfig, load_routing

T0 = datetime(2026, 3, 1, tzinfo=UTC)
RIVER = load_catalogue().risk_point("river_level_high")


def watch_req(n: int = 3) -> DisposalWatch:
    return DisposalWatch(
        watch_id="w1",
        sensor_id="s1",
        order_id="o1",
        risk_point=RIVER.id,
        healthy_readings=n,
        until=T0 + timedelta(hours=1),
        event_time=T0,
    )


def rd(i: int, value: float) -> SensorReading:
    return SensorReading(
        reading_id=f"r{i}", sensor_id="s1", sensor_kind="river_level_m", place_id="p",
        value=value, event_time=T0,
    )  # fmt: skip


@given(st.lists(st.floats(min_value=3.0, max_value=5.0), max_size=30))
def test_recovered_means_the_last_n_readings_were_healthy(values: list[float]) -> None:
    watches = disposal.start({}, watch_req())
    recovered = False
    for i, v in enumerate(values):
        healthy = {RIVER.id: disposal.is_healthy(RIVER, v)}
        watches, events = disposal.on_reading(watches, rd(i, v), healthy, T0)
        for e in events:
            assert e.recovered != recovered
            recovered = e.recovered
    tail = values[-3:]
    expected = len(tail) == 3 and all(v <= 4.2 for v in tail)
    assert recovered == expected


def test_a_replayed_watch_keeps_its_streak_and_an_expired_one_is_dropped() -> None:
    watches = disposal.start({}, watch_req())
    watches, _ = disposal.on_reading(watches, rd(1, 4.0), {RIVER.id: True}, T0)
    assert disposal.start(watches, watch_req()) is watches
    late, events = disposal.on_reading(
        watches, rd(2, 4.0), {RIVER.id: True}, T0 + timedelta(hours=2)
    )
    assert late == {} and events == []


def cfg(**route: object) -> dict[str, object]:
    return {
        "version": 1,
        "receivers": [
            {"name": "town", "role": "town_street", "phone": "+8657100000001"},
            {"name": "owner", "role": "party_concerned", "phone": "+8613800000005"},
        ],
        "route": {"receiver": "town", "channels": ["sms"], "sla_class": "non_emergency",
                  "escalate_to": "town", **route},
    }  # fmt: skip


def test_party_concerned_must_exist_and_have_that_role() -> None:
    with pytest.raises(ValueError, match="unknown party_concerned 'nobody'"):
        RoutingConfig.model_validate(cfg(party_concerned="nobody"))
    with pytest.raises(ValueError, match="has role 'town_street'"):
        RoutingConfig.model_validate(cfg(party_concerned="town"))


def test_recheck_must_come_before_the_first_deadline(tmp_path) -> None:
    bad = cfg(party_concerned="owner")
    bad["auto_disposal"] = {"recheck_after_s": {"emergency": 400, "non_emergency": 60}}
    path = tmp_path / "routes.yaml"
    import yaml

    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match=r"routes.yaml: auto_disposal: .*emergency: 400 s"):
        load_routing(path)


def test_an_auto_disposable_alert_gets_a_machine_first_order() -> None:
    router = Router(load_routing())
    alert = Alert(
        alert_id="a1", kind=AlertKind.SINGLE, rule_id="single", level="medium", emergency=False,
        auto_disposable=True, scope="p", module="flood_control", risk_points=[RIVER.id],
        labels={"module": "flood_control", "emergency": "false"}, signal_ids=["sig-1"],
        source_keys=["s1"], summary="river high", event_time=T0,
    )  # fmt: skip
    order = router.dispatch(alert, T0)
    assert order.auto_disposal is not None
    assert order.auto_disposal.sensor_ids == ["s1"]
    assert order.auto_disposal.recheck_at == T0 + timedelta(hours=1)
    assert order.escalate_to == "town_duty_office"
    person = router.dispatch(alert.model_copy(update={"auto_disposable": False}), T0)
    assert person.auto_disposal is None


def test_the_scaled_clock_is_stable_across_restarts() -> None:
    walls = [T0 + timedelta(seconds=10)]
    a = ScaledClock(epoch=T0, anchor=T0, speed=60, wall=lambda: walls[0])
    b = ScaledClock(epoch=T0, anchor=T0, speed=60, wall=lambda: walls[0])
    assert a() == b() == T0 + timedelta(minutes=10)
    assert make_clock() is not None
    with pytest.raises(ConfigError):
        make_clock(epoch="yesterday", speed=60)
    with pytest.raises(ConfigError):
        ScaledClock(epoch=T0, anchor=T0, speed=0)
