"""The route tree: validated at load, inherited and resolved depth first at runtime."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from districts import default_router

from schemas import Alert, AlertKind, Channel, SlaClass
from streams.core.orders.create import create_order
from streams.core.orders.routing import DEFAULT_PATH, Router, RoutingConfig, load_routing
from streams.core.shared.config import ConfigError

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

RECEIVERS = [
    {"name": "root_rx", "role": "town_street", "phone": "+8657100000001"},
    {"name": "a_rx", "role": "grid_worker", "phone": "+8613800000002"},
    {"name": "b_rx", "role": "enterprise", "phone": "+8657100000003"},
    {"name": "c_rx", "role": "law_enforcement", "phone": "+8657100000004"},
    {"name": "esc_rx", "role": "department", "phone": "+8657100000005"},
]


def _config(routes: list[dict[str, Any]], **root: Any) -> RoutingConfig:
    return RoutingConfig.model_validate(
        {
            "version": 1,
            "receivers": RECEIVERS,
            "route": {
                "name": "top",
                "receiver": "root_rx",
                "channels": ["sms"],
                "sla_class": "non_emergency",
                "escalate_to": "esc_rx",
                **root,
                "routes": routes,
            },
        }
    )


def _default_doc() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


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


# --- the default file -------------------------------------------------------------


def test_the_default_routes_load() -> None:
    cfg = load_routing()
    assert cfg.version == 1
    assert {r.name for r in cfg.receivers} == {
        "gas_company_hotline",
        "fire_brigade_liaison",
        "grid_worker",
        "party_concerned",
        "town_duty_office",
        "department",
        "district_command_centre",
    }
    roles = {r.name: r.role for r in cfg.receivers}
    assert roles["party_concerned"] == "party_concerned"
    assert roles["grid_worker"] == "grid_worker" and roles["department"] == "department"
    assert cfg.route.party_concerned == "party_concerned"
    assert cfg.auto_disposal.recheck_after_s == {
        SlaClass.EMERGENCY: 120.0,
        SlaClass.NON_EMERGENCY: 5400.0,
    }
    assert cfg.auto_disposal.healthy_readings == 3


@pytest.mark.parametrize(
    ("labels", "route", "receiver", "sla_class", "escalate_to"),
    [
        (
            {"emergency": "true", "module": "gas_safety"},
            "emergency_gas",
            "gas_company_hotline",
            SlaClass.EMERGENCY,
            "town_duty_office",
        ),
        (
            {"emergency": "true", "module": "fire_safety"},
            "emergency_fire",
            "fire_brigade_liaison",
            SlaClass.EMERGENCY,
            "town_duty_office",
        ),
        (
            {"emergency": "true", "module": "flood_control"},
            "emergency",
            "grid_worker",
            SlaClass.EMERGENCY,
            "town_duty_office",
        ),
        (
            {"emergency": "false", "module": "gas_safety"},
            "default",
            "grid_worker",
            SlaClass.NON_EMERGENCY,
            "town_duty_office",
        ),
        ({}, "default", "grid_worker", SlaClass.NON_EMERGENCY, "town_duty_office"),
        (
            {"kind": "systemic", "emergency": "false"},
            "systemic",
            "department",
            SlaClass.NON_EMERGENCY,
            "district_command_centre",
        ),
    ],
)
def test_the_default_tree_resolves(
    labels: dict[str, str], route: str, receiver: str, sla_class: SlaClass, escalate_to: str
) -> None:
    d = default_router().resolve(labels)
    assert d.route == route
    assert d.receiver.name == receiver
    assert d.sla_class is sla_class
    # Inherited from the root, set nowhere below it.
    assert d.channels == (Channel.SMS,)
    assert d.escalate_to.name == escalate_to
    assert d.party_concerned is not None and d.party_concerned.name == "party_concerned"


# --- inheritance and matching -------------------------------------------------------


def test_children_inherit_unset_fields_from_their_effective_parent() -> None:
    cfg = _config(
        [
            {
                "match": {"a": "1"},
                "name": "a",
                "receiver": "a_rx",
                "channels": ["sms", "voice"],
                "routes": [{"match": {"b": "2"}, "name": "ab", "sla_class": "emergency"}],
            }
        ]
    )
    d = Router(cfg).resolve({"a": "1", "b": "2"})
    assert d.route == "ab"
    assert d.receiver.name == "a_rx"  # from the parent, not the root
    assert d.channels == (Channel.SMS, Channel.VOICE)  # from the parent
    assert d.sla_class is SlaClass.EMERGENCY  # its own
    assert d.escalate_to.name == "esc_rx"  # from the root, through the parent


def test_a_child_override_does_not_leak_to_its_siblings() -> None:
    cfg = _config(
        [
            {"match": {"a": "1"}, "name": "a", "receiver": "a_rx", "escalate_to": "c_rx"},
            {"match": {"b": "1"}, "name": "b"},
        ]
    )
    d = Router(cfg).resolve({"b": "1"})
    assert (d.route, d.receiver.name, d.escalate_to.name) == ("b", "root_rx", "esc_rx")


def test_the_first_matching_child_wins() -> None:
    cfg = _config(
        [
            {"match": {"a": "1"}, "name": "first", "receiver": "a_rx"},
            {"match": {"b": "2"}, "name": "second", "receiver": "b_rx"},
        ]
    )
    router = Router(cfg)
    assert router.resolve({"a": "1", "b": "2"}).route == "first"
    assert router.resolve({"b": "2"}).route == "second"
    assert router.resolve({"a": "2", "b": "3"}).route == "top"


def test_a_more_specific_earlier_sibling_is_reachable_and_wins() -> None:
    cfg = _config(
        [
            {"match": {"a": "1", "b": "2"}, "name": "specific", "receiver": "b_rx"},
            {"match": {"a": "1"}, "name": "general", "receiver": "a_rx"},
        ]
    )
    router = Router(cfg)
    assert router.resolve({"a": "1", "b": "2"}).route == "specific"
    assert router.resolve({"a": "1", "b": "3"}).route == "general"


def test_descent_is_depth_first_without_backtracking() -> None:
    cfg = _config(
        [
            {
                "match": {"a": "1"},
                "name": "a",
                "receiver": "a_rx",
                "routes": [{"match": {"x": "1"}, "name": "ax", "receiver": "c_rx"}],
            },
            {"match": {"b": "1"}, "name": "b", "receiver": "b_rx"},
        ]
    )
    router = Router(cfg)
    # "a" matches, none of its children does: it stops at "a", never tries "b".
    d = router.resolve({"a": "1", "b": "1"})
    assert (d.route, d.receiver.name) == ("a", "a_rx")
    assert router.resolve({"a": "1", "x": "1", "b": "1"}).route == "ax"


def test_deep_trees_are_followed_to_the_leaf() -> None:
    leaf = {"match": {"d": "1"}, "name": "leaf", "receiver": "c_rx"}
    mid = {"match": {"c": "1"}, "routes": [leaf]}
    cfg = _config([{"match": {"b": "1"}, "receiver": "b_rx", "routes": [mid]}])
    d = Router(cfg).resolve({"b": "1", "c": "1", "d": "1"})
    assert (d.route, d.receiver.name) == ("leaf", "c_rx")


def test_unnamed_routes_are_named_by_their_match() -> None:
    cfg = _config([{"match": {"module": "gas_safety"}, "receiver": "a_rx"}], name=None)
    router = Router(cfg)
    d = router.resolve({"module": "gas_safety"})
    assert d.route == "root/module=gas_safety"
    order = create_order(router, _alert(module="gas_safety"), T0)
    assert order.route == "root_module_gas_safety"
    assert router.resolve({}).route == "root"


def test_an_empty_match_catches_everything() -> None:
    cfg = _config([{"match": {}, "name": "all", "receiver": "a_rx"}])
    assert Router(cfg).resolve({"anything": "x"}).route == "all"


def test_receiver_lookup() -> None:
    router = default_router()
    assert router.receiver("gas_company_hotline").role == "enterprise"
    assert router.receiver("town.linping").role == "town_street"  # from the directory
    for name in ("nobody", "grid_worker"):  # a directory receiver is a role, not a party
        with pytest.raises(KeyError):
            router.receiver(name)


# --- bad files ------------------------------------------------------------------------


def _load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_routing(path)
    message = str(info.value)
    assert str(path) in message
    return message


def _mutated(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(_default_doc())
    change(doc)
    return doc


def _child(d: dict[str, Any], *path: int) -> dict[str, Any]:
    node = d["route"]
    for i in path:
        node = node["routes"][i]
    return node


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda d: _child(d, 0, 1).__setitem__("receiver", "police_hotline"),
            ["route route.routes[0].routes[1]", "unknown receiver 'police_hotline'"],
            id="unknown-receiver",
        ),
        pytest.param(
            lambda d: _child(d, 0).__setitem__("escalate_to", "mayor"),
            ["route route.routes[0]", "unknown escalate_to 'mayor'"],
            id="unknown-escalate-to",
        ),
        pytest.param(
            lambda d: _child(d, 0)["routes"].insert(
                0, {"match": {"module": "gas_safety"}, "name": "gas_first"}
            ),
            ["route route.routes[0].routes[1] is unreachable", "{'module': 'gas_safety'}"],
            id="shadowed-by-earlier-sibling",
        ),
        pytest.param(
            lambda d: _child(d, 0)["routes"].append(
                {"match": {"module": "gas_safety", "level": "critical"}, "name": "late"}
            ),
            ["route route.routes[0].routes[2] is unreachable", "{'module': 'gas_safety'}"],
            id="more-specific-after-general",
        ),
        pytest.param(
            lambda d: d["route"]["routes"].insert(0, {"match": {}, "name": "everything"}),
            ["route route.routes[1] is unreachable", "matching {}"],
            id="catch-all-first",
        ),
        pytest.param(
            lambda d: _child(d, 0)["routes"].append(dict(_child(d, 0, 0))),
            ["route route.routes[0].routes[2] is unreachable"],
            id="duplicate-sibling",
        ),
        pytest.param(
            lambda d: d["route"].pop("receiver"),
            ["the root route must set 'receiver'"],
            id="root-without-receiver",
        ),
        pytest.param(
            lambda d: d["route"].pop("sla_class"),
            ["the root route must set 'sla_class'"],
            id="root-without-sla-class",
        ),
        pytest.param(
            lambda d: d["route"].__setitem__("match", {"emergency": "true"}),
            ["root route matches everything"],
            id="root-with-match",
        ),
        pytest.param(
            lambda d: d["receivers"].append(dict(d["receivers"][0])),
            ["receiver names must be unique"],
            id="duplicate-receiver",
        ),
        pytest.param(
            lambda d: d["receivers"][1].__setitem__("phone", "call me"),
            ["receivers[1](fire_brigade_liaison).phone"],
            id="bad-phone",
        ),
        pytest.param(
            lambda d: d["receivers"][0].__setitem__("role", "mayor"),
            ["receivers[0](gas_company_hotline).role"],
            id="bad-role",
        ),
        pytest.param(
            lambda d: _child(d, 0).__setitem__("channels", ["fax"]),
            ["route.routes[0](emergency).channels[0]", "'sms' or 'voice'"],
            id="bad-channel",
        ),
        pytest.param(
            lambda d: _child(d, 0).__setitem__("sla_class", "urgent"),
            ["route.routes[0](emergency).sla_class"],
            id="bad-sla-class",
        ),
        pytest.param(
            lambda d: _child(d, 0, 0).__setitem__("recevier", "x"),
            ["route.routes[0](emergency).routes[0](emergency_gas).recevier", "Extra inputs"],
            id="misspelled-field",
        ),
        pytest.param(lambda d: d.pop("route"), ["route", "Field required"], id="no-route"),
    ],
)
def test_a_bad_routing_file_names_file_entry_and_field(
    tmp_path: Path, change: Any, expected: list[str]
) -> None:
    message = _load_error(_write(tmp_path, _mutated(change)))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("version: 1\nroute: {receiver: town\n", encoding="utf-8")
    assert "not valid YAML" in _load_error(path)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d["route"].__setitem__("channels", ["sms"] * 5), id="five-channels"),
        pytest.param(
            lambda d: (
                d["receivers"][0].__setitem__("name", "r" * 70),
                d["route"].__setitem__("receiver", "r" * 70),
                d["route"].__setitem__("escalate_to", "r" * 70),
            ),
            id="long-receiver-name",
        ),
    ],
)
def test_routes_that_cannot_make_an_order_are_refused_at_load(tmp_path: Path, change: Any) -> None:
    _load_error(_write(tmp_path, _mutated(change)))
