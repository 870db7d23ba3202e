"""Receivers resolved by jurisdiction and role from the district model's directory."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from districts import SMALL, default_directory, default_router, small_regions

from schemas import Alert, AlertKind, ScopeKind
from streams.core.notifications.plan import plan, plan_breach
from streams.core.orders.create import create_order
from streams.core.orders.routing import DEFAULT_PATH, Router, RoutingConfig, load_routing
from streams.core.shared.config import ConfigError
from streams.core.shared.directory import Directory

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
MODEL = default_directory().regions.model
#: a restaurant the owner answers for, and a rental flat with a property manager
RESTAURANT = next(s for s in MODEL.sites if s.kind == "restaurant" and s.party.role == "owner")
FLAT = next(s for s in MODEL.sites if s.party.role == "property_manager")


def where(site_id: str) -> tuple[str, str]:
    loc = default_directory().regions.locate(site_id)
    assert loc is not None
    return loc.grid_cell, loc.town


def single(scope: str, module: str, emergency: bool, auto: bool = False, **labels: str) -> Alert:
    return Alert(
        event_time=T0,
        alert_id=f"alert-{scope}-{module}-{emergency}",
        kind=AlertKind.SINGLE,
        rule_id="single",
        level="high",
        emergency=emergency,
        auto_disposable=auto,
        scope=scope,
        module=module,
        risk_points=["gas_use_unusual" if module == "gas_safety" else "rental_water_use_unusual"],
        labels={"module": module, "emergency": str(emergency).lower(), **labels},
        signal_ids=["sig-1"],
        source_keys=["sensor-1"],
        summary="s",
    )


def systemic(scope: str, kind: ScopeKind, module: str, emergency: bool) -> Alert:
    base = single(scope, module, emergency, kind="systemic")
    return base.model_copy(update={"kind": AlertKind.SYSTEMIC, "scope_kind": kind})


def test_a_site_alert_goes_to_its_cells_grid_worker_its_owner_and_its_town() -> None:
    router = default_router()
    cell, town = where(RESTAURANT.id)
    order = create_order(router, single(RESTAURANT.id, "gas_safety", False, auto=True), T0)
    assert (order.receiver, order.assignee_role) == (f"grid.{cell}", "grid_worker")
    assert order.escalate_to == f"town.{town}"
    assert (order.department, order.town) == ("gas", town)
    assert order.auto_disposal is not None
    assert order.auto_disposal.party_concerned == f"party.{RESTAURANT.id}"
    # the reminder goes to the owner's own (model's) number; the dispatch to the grid worker's
    sms, call = plan(order, router, T0)
    assert sms.receiver == call.receiver == f"party.{RESTAURANT.id}"
    assert router.receiver(sms.receiver).phone == RESTAURANT.party.phone  # looked up at delivery
    worker = next(c.worker for _, _, c in MODEL.cells() if c.id == cell)
    person = create_order(router, single(RESTAURANT.id, "gas_safety", False), T0)
    (dispatch,) = plan(person, router, T0)
    assert dispatch.receiver == f"grid.{cell}"
    assert router.receiver(dispatch.receiver).phone == worker.phone


def test_a_property_manager_answers_for_their_site() -> None:
    router = default_router()
    order = create_order(router, single(FLAT.id, "rental_housing", False, auto=True), T0)
    party = router.receiver(order.auto_disposal.party_concerned)  # type: ignore[union-attr]
    assert (party.name, party.role) == (f"party.{FLAT.id}", "property_management")
    assert order.department == "housing"


def test_emergencies_keep_their_fixed_lines_and_escalate_to_the_town() -> None:
    router = default_router()
    _, town = where(RESTAURANT.id)
    order = create_order(router, single(RESTAURANT.id, "gas_safety", True), T0)
    assert (order.route, order.receiver) == ("emergency_gas", "gas_company_hotline")
    assert (order.escalate_to, order.department) == (f"town.{town}", "gas")


def test_systemic_alerts_go_to_the_department_and_fall_back_by_jurisdiction() -> None:
    router = default_router()
    town = MODEL.towns[0].id
    regional = create_order(router, systemic(town, ScopeKind.TOWN, "flood_control", False), T0)
    assert (regional.route, regional.receiver, regional.assignee_role) == (
        "systemic",
        "dept.water",
        "department",
    )
    assert regional.escalate_to == f"district.{MODEL.district.id}"
    assert regional.town == town
    # an emergency across a town: a town has no grid worker, so its duty office
    urgent = create_order(router, systemic(town, ScopeKind.TOWN, "flood_control", True), T0)
    assert (urgent.route, urgent.receiver, urgent.escalate_to) == (
        "emergency",
        f"town.{town}",
        f"town.{town}",
    )
    # an industry has neither grid worker nor town: the module's department
    industry = create_order(
        router, systemic("catering", ScopeKind.INDUSTRY, "food_safety", True), T0
    )
    assert (industry.receiver, industry.escalate_to, industry.town) == (
        "dept.market",
        "dept.market",
        None,
    )


def test_routes_can_match_a_towns_jurisdiction(tmp_path: Path) -> None:
    doc = yaml.safe_load(DEFAULT_PATH.read_text())
    town = MODEL.towns[1].id
    doc["receivers"].append(
        {"name": "night_desk", "role": "town_street", "phone": "+8657100000009"}
    )
    doc["route"]["routes"].insert(
        0,
        {
            "match": {"town": town, "site_kind": "restaurant"},
            "name": "town_restaurants",
            "receiver": "night_desk",
        },
    )
    path = tmp_path / "routes.yaml"
    path.write_text(yaml.safe_dump(doc))
    router = Router(load_routing(path), default_directory())
    theirs = next(s for s in MODEL.sites if s.kind == "restaurant" and where(s.id)[1] == town)
    mine = create_order(router, single(theirs.id, "gas_safety", False), T0)
    assert (mine.route, mine.receiver) == ("town_restaurants", "night_desk")
    other = create_order(router, single(RESTAURANT.id, "gas_safety", False), T0)
    assert other.receiver.startswith("grid.cell.")


def test_a_breach_escalation_reaches_the_town_office() -> None:
    from schemas import SlaBreach

    router = default_router()
    town = MODEL.towns[2]
    breach = SlaBreach(
        breach_id="b1", order_id="o1", alert_id="a1", stage="signed", deadline=T0,
        escalate_to=f"town.{town.id}", event_time=T0,
    )  # fmt: skip
    (sms,) = plan_breach(breach, router, T0)
    assert sms.receiver == f"town.{town.id}"
    assert router.receiver(sms.receiver).phone == town.office.phone


def test_a_small_model_of_ones_own_routes_too() -> None:
    router = Router(load_routing(), Directory(small_regions()))
    order = create_order(router, single("site.factory.wuchang-01", "production_safety", False), T0)
    assert order.receiver == "grid.cell.wuchang.wuchang-1.02"
    assert (order.escalate_to, order.department) == ("town.wuchang", "emergency")
    small = yaml.safe_load(SMALL.read_text())
    assert (
        router.receiver("grid.cell.wuchang.wuchang-1.02").phone
        == (small["towns"][0]["communities"][0]["grid_cells"][1]["worker"]["phone"])
    )


def test_directory_receivers_need_a_directory() -> None:
    with pytest.raises(ValueError, match="looked up in the district directory"):
        Router(load_routing())


RECEIVERS: list[dict[str, Any]] = [
    {"name": "grid", "directory": "grid_worker", "fallback": "town"},
    {"name": "town", "directory": "town_office", "fallback": "dept"},
    {"name": "dept", "directory": "department"},
]


def _routes(receivers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": 1,
        "receivers": receivers,
        "route": {"receiver": "grid", "channels": ["sms"], "sla_class": "non_emergency",
                  "escalate_to": "town"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda r: r[0].pop("fallback"),
            "receivers[0](grid): a grid_worker receiver needs a fallback",
            id="no-fallback",
        ),
        pytest.param(
            lambda r: r[1].__setitem__("fallback", "grid"), "fallback loop", id="fallback-loop"
        ),
        pytest.param(
            lambda r: r[0].__setitem__("fallback", "mayor"),
            "unknown fallback 'mayor'",
            id="unknown-fallback",
        ),
        pytest.param(
            lambda r: r[2].__setitem__("phone", "+8657100000001"),
            "either 'phone' or 'directory'",
            id="phone-and-directory",
        ),
        pytest.param(
            lambda r: r[2].__setitem__("role", "grid_worker"),
            "has role 'department'",
            id="wrong-role",
        ),
        pytest.param(
            lambda r: r[2].__setitem__("directory", "mayor_office"), "directory", id="bad-kind"
        ),
        pytest.param(
            lambda r: r.append({"name": "x", "role": "enterprise"}),
            "needs 'role' and 'phone'",
            id="fixed-without-phone",
        ),
    ],
)
def test_bad_directory_receivers_are_refused_at_load(
    tmp_path: Path, change: Any, expected: str
) -> None:
    receivers = copy.deepcopy(RECEIVERS)
    change(receivers)
    path = tmp_path / "routes.yaml"
    path.write_text(yaml.safe_dump(_routes(receivers)))
    with pytest.raises(ConfigError) as info:
        load_routing(path)
    assert str(path) in str(info.value) and expected in str(info.value), str(info.value)
    RoutingConfig.model_validate(_routes(copy.deepcopy(RECEIVERS)))  # the unchanged one is fine
