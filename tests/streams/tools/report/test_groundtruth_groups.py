"""Strict ground-truth matching of group incidents (tools.report.groundtruth): a compound
or systemic alert detects a group of its own kind only through the group's members."""

from __future__ import annotations

from datetime import timedelta

from reportkit import T0, alert, at, systemic

from schemas import Alert, AlertKind, ScopeKind
from streams.tools.report.facts import Period, alert_facts
from streams.tools.report.groundtruth import Entry, Truth, assess

DAY = Period(T0, T0 + timedelta(days=1))
CELLS = [f"cell.linping.c0{i}.01" for i in (1, 2, 3)]


def member(i: int, place: str, group: str, module: str = "flood_control") -> Entry:
    rp = {"flood_control": "rainfall_intense", "road_traffic": "road_icing"}[module]
    return Entry(
        f"incident-{i}",
        "incident",
        at(60),
        at(120),
        rp,
        risk_point=rp,
        module=module,
        group=group,
        place_id=place,
        grid_cell=place,
        community=place.split(".")[2],
        town="linping",
        industry="cell",
        sensor_id=f"sensor-{i}",
    )


def head(kind: str, gid: str, members: list[Entry], **kw: str) -> Entry:
    return Entry(
        gid,
        "incident",
        at(60),
        at(120),
        "rainfall_intense",
        risk_point="rainfall_intense",
        module="flood_control",
        kind=kind,
        members=tuple(m.id for m in members),
        **kw,
    )


def compound(n: int, place: str, minute: float, places: list[tuple[str, str, str]]) -> Alert:
    a = systemic(n, "compound", ScopeKind.PLACE, place, (60, 120), minute, places)
    portrait = a.portrait.model_copy(update={"rule_kind": "compound"}) if a.portrait else None
    return a.model_copy(update={"kind": AlertKind.COMPOUND, "portrait": portrait})


def scored(alerts: list[Alert], entries: list[Entry]) -> dict[str, object]:
    return assess(alert_facts(alerts, DAY), Truth(tuple(entries), sensors=100), DAY)


def regional_group() -> tuple[Entry, list[Entry]]:
    members = [member(i, c, "incident-regional-linping") for i, c in enumerate(CELLS, 1)]
    return head("regional", "incident-regional-linping", members, town="linping"), members


def test_a_chance_regional_alert_with_no_injected_group_is_false() -> None:
    _, members = regional_group()
    singles = [m for m in members if m.group]
    loose = [Entry(**{**m.__dict__, "group": None}) for m in singles]  # no group line at all
    ev = [(c, "flood_control", "rainfall_intense") for c in CELLS]
    town = systemic(9, "regional", ScopeKind.TOWN, "linping", (60, 120), 70, ev)
    g = scored([town], loose)
    assert g["false_alerts"] == 1 and g["false_alert_ids"] == ["alert-9"]
    assert g["systemic"]["regional"]["alerts"] == 1  # type: ignore[index]
    assert g["systemic"]["regional"]["matched"] == 0  # type: ignore[index]
    assert g["recall"] == 0.0  # nor does it find the single incidents under it


def test_a_regional_alert_over_the_groups_members_is_matched_and_detects_it() -> None:
    group, members = regional_group()
    ev = [(c, "flood_control", "rainfall_intense") for c in CELLS]
    town = systemic(9, "regional", ScopeKind.TOWN, "linping", (60, 120), 70, ev)
    g = scored([town], [group, *members])
    assert g["false_alerts"] == 0 and g["groups_missed"] == []
    assert g["systemic"]["regional"] == {  # type: ignore[index]
        "alerts": 1,
        "matched": 1,
        "group_matched": 1,
        "groups": 1,
        "groups_detected": 1,
    }


def test_a_systemic_alert_must_hold_a_member_and_be_of_the_groups_kind() -> None:
    group, members = regional_group()
    elsewhere = [(f"cell.linping.c0{i}.02", "flood_control", "rainfall_intense") for i in (4, 5)]
    other_cells = systemic(1, "regional", ScopeKind.TOWN, "linping", (60, 120), 70, elsewhere)
    ev = [(c, "flood_control", "rainfall_intense") for c in CELLS]
    wrong_kind = systemic(2, "comprehensive", ScopeKind.DISTRICT, "yuhang", (60, 120), 70, ev)
    other_town = systemic(3, "regional", ScopeKind.TOWN, "yuhang", (60, 120), 70, ev)
    too_late = systemic(4, "regional", ScopeKind.TOWN, "linping", (300, 360), 330, ev)
    g = scored([other_cells, wrong_kind, other_town, too_late], [group, *members])
    assert g["groups_missed"] == [group.id]  # none of them detects the regional group ...
    # ... but an alert of another kind or scope made of the group's members, in their
    # time, is a pattern the injection made, not a chance one: only two are false
    assert sorted(g["false_alert_ids"]) == ["alert-1", "alert-4"]  # type: ignore[arg-type]


def test_a_systemic_alert_mostly_of_chance_signals_is_false_even_if_one_is_a_member() -> None:
    group, members = regional_group()
    chance = [(f"cell.linping.c0{i}.02", "flood_control", "rainfall_intense") for i in (4, 5, 6)]
    ev = [(CELLS[0], "flood_control", "rainfall_intense"), *chance]
    g = scored([systemic(1, "comprehensive", ScopeKind.DISTRICT, "yuhang", (60, 120), 70, ev)],
               [group, *members])  # fmt: skip
    assert g["false_alert_ids"] == ["alert-1"]


def test_a_compound_alert_detects_a_compound_group_at_its_place() -> None:
    cell = CELLS[0]
    gid = "incident-compound-" + cell
    members = [member(1, cell, gid), member(2, cell, gid, "road_traffic")]
    group = head("compound", gid, members, place_id=cell, town="linping", grid_cell=cell)
    ev = [(cell, "flood_control", "rainfall_intense"), (cell, "road_traffic", "road_icing")]
    hit = compound(1, cell, 70, ev)
    g = scored([hit], [group, *members])
    assert g["groups"] == {"compound": {"incidents": 1, "detected": 1, "recall": 1.0}}
    assert g["recall"] == 1.0 and g["false_alerts"] == 0  # it finds the members too
    assert g["systemic"]["compound"]["group_matched"] == 1  # type: ignore[index]
    elsewhere = compound(2, CELLS[1], 70, [(CELLS[1], "flood_control", "rainfall_intense")])
    g = scored([elsewhere], [group, *members])
    assert g["groups_missed"] == [gid] and g["false_alert_ids"] == ["alert-2"]


def test_a_compound_alert_with_no_group_is_matched_by_a_single_incident_at_its_place() -> None:
    cell = CELLS[0]
    lone = member(1, cell, "")
    lone = Entry(**{**lone.__dict__, "group": None})
    ev = [(cell, "flood_control", "rainfall_intense"), (cell, "road_traffic", "road_icing")]
    g = scored([compound(1, cell, 70, ev)], [lone])
    assert g["false_alerts"] == 0 and g["recall"] == 1.0
    assert g["systemic"]["compound"] == {  # type: ignore[index]
        "alerts": 1,
        "matched": 1,
        "group_matched": 0,
        "groups": 0,
        "groups_detected": 0,
    }
    g = scored([compound(1, cell, 70, ev), alert(2, 70)], [])
    assert g["false_alerts"] == 2


def test_a_member_is_found_by_its_own_sensor_in_the_source_keys() -> None:
    group, members = regional_group()
    ev = [("cell.linping.c09.09", "flood_control", "rainfall_intense")]
    town = systemic(9, "regional", ScopeKind.TOWN, "linping", (60, 120), 70, ev)
    keyed = town.model_copy(update={"source_keys": ["sensor-2"]})
    assert scored([keyed], [group, *members])["groups_missed"] == []
