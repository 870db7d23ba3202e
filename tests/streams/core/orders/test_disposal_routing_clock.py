"""Routing validation of the auto-disposal fields, the machine-first order, the scaled clock.

(The re-check itself: ``test_disposal.py``.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from districts import default_router

from schemas import Alert, AlertKind
from streams.core.orders.create import create_order
from streams.core.orders.routing import RoutingConfig, load_routing
from streams.core.shared.catalogue import load_catalogue
from streams.core.shared.clock import ScaledClock, make_clock
from streams.core.shared.config import ConfigError

T0 = datetime(2026, 3, 1, tzinfo=UTC)
RIVER = load_catalogue().risk_point("river_level_high")
CELL = "cell.linping.c01.01"  # a grid cell of the default district model


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
    router = default_router()
    alert = Alert(
        alert_id="a1", kind=AlertKind.SINGLE, rule_id="single", level="medium", emergency=False,
        auto_disposable=True, scope=CELL, module="flood_control", risk_points=[RIVER.id],
        labels={"module": "flood_control", "emergency": "false"}, signal_ids=["sig-1"],
        source_keys=["s1"], summary="river high", event_time=T0,
    )  # fmt: skip
    order = create_order(router, alert, T0)
    assert order.auto_disposal is not None
    assert order.auto_disposal.sensor_ids == ["s1"]
    # past the slowest heartbeat (an hour); healthy 3 readings in a row, or for 15 minutes
    assert order.auto_disposal.recheck_at == T0 + timedelta(minutes=90)
    assert (order.auto_disposal.healthy_readings, order.auto_disposal.healthy_for_s) == (3, 900)
    # what the re-check needs: the alarm (its event time) and the place
    assert order.auto_disposal.since == alert.event_time
    assert order.auto_disposal.place_id == CELL
    # a grid cell has no owner: its grid worker is reminded; the town's office is escalated to
    assert order.auto_disposal.party_concerned == f"grid.{CELL}"
    assert order.escalate_to == "town.linping"
    assert (order.department, order.town) == ("water", "linping")
    unknown = create_order(router, alert.model_copy(update={"scope": "p"}), T0)
    # a place the district model does not know: no grid worker, no town → the department
    assert unknown.receiver == unknown.escalate_to == "dept.water"
    assert (
        unknown.auto_disposal is not None and unknown.auto_disposal.party_concerned == "dept.water"
    )
    person = create_order(router, alert.model_copy(update={"auto_disposable": False}), T0)
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
