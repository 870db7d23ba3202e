"""Recall and false alerts against the simulator's ground truth (tools.report.groundtruth)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportkit import T0, alert, at, order, status, systemic

from schemas import Alert, OrderState, ScopeKind
from streams.tools.report.facts import Period, alert_facts, order_facts
from streams.tools.report.groundtruth import (
    Entry,
    Truth,
    assess,
    parse_truth,
    recheck_outcomes,
)
from streams.tools.simulate.command import District, Simulation

DAY = Period(T0, T0 + timedelta(days=1))
PLACE = "site.linping.c01.restaurant-01"


def incident(n: int, start: float, end: float, **kw: str) -> Entry:
    fields = {
        "risk_point": "restaurant_gas_leak",
        "module": "gas_safety",
        "place_id": PLACE,
        "community": "linping.c01",
        "town": "linping",
        "industry": "restaurant",
        "sensor_id": "gas_lel-00001",
    }
    fields.update(kw)
    return Entry(f"incident-{n}", "incident", at(start), at(end), fields["risk_point"], **fields)


def fault(n: int, start: float, end: float, sensor: str) -> Entry:
    return Entry(
        f"fault-{n}", "fault", at(start), at(end), "stuck", sensor_id=sensor, place_id=PLACE
    )


def scored(alerts: list[Alert], entries: list[Entry], **kw: object) -> dict[str, object]:
    truth = Truth(tuple(entries), sensors=100)
    return assess(alert_facts(alerts, DAY), truth, DAY, **kw)  # type: ignore[arg-type]


def test_an_alert_matches_where_what_and_when_all_hold() -> None:
    e = incident(1, 60, 90)
    assert scored([alert(1, 61)], [e])["recall"] == 1.0
    assert scored([alert(1, 90 + 29)], [e])["recall"] == 1.0  # within the allowed delay
    assert scored([alert(1, 90 + 31)], [e])["recall"] == 0.0  # too late
    assert scored([alert(1, 59)], [e])["recall"] == 0.0  # before it started: no look-ahead
    other_place = alert(1, 61, place="site.linping.c01.factory-02", sensor="dust-00002")
    assert scored([other_place], [e])["recall"] == 0.0
    other_risk = alert(1, 61, module="fire_safety", risk_point="smoke_in_rental_flat")
    assert scored([other_risk], [e])["recall"] == 0.0
    same_module = alert(1, 61, risk_point="gas_pressure_shift")
    assert scored([same_module], [e])["recall"] == 1.0
    by_sensor = alert(1, 61, place="somewhere-else")  # raised by the incident's sensor
    assert scored([by_sensor], [e])["recall"] == 1.0
    assert scored([alert(1, 90 + 31)], [e], delay_s=3600)["recall"] == 1.0


def test_a_systemic_alert_over_a_single_incident_is_neither_recall_nor_a_match() -> None:
    """Strict: a systemic alert never finds a single incident; with no injected group of
    its kind it is a false alert, however well it overlaps single incidents."""
    e = incident(1, 60, 90)
    ev = [(PLACE, "gas_safety", "restaurant_gas_leak")]
    far = [("site.yuhang.c02.factory-01", "production_safety", "factory_dust")]
    town = systemic(1, "regional", ScopeKind.TOWN, "linping", (60, 120), 80, ev + far)
    industry = systemic(3, "industry", ScopeKind.INDUSTRY, "restaurant", (60, 120), 70, ev)
    district = systemic(4, "comprehensive", ScopeKind.DISTRICT, "yuhang", (0, 1440), 85, ev)
    trend = systemic(5, "trend", ScopeKind.DISTRICT, "yuhang", (60, 120), 80, ev)
    g = scored([town, industry, district, trend], [e])
    assert g["recall"] == 0.0 and g["missed"] == ["incident-1"]
    assert g["false_alerts"] == 4 and g["alerts_matched"] == 0
    assert {k: (v["alerts"], v["matched"]) for k, v in g["systemic"].items()} == {
        "trend": (1, 0),
        "regional": (1, 0),
        "industry": (1, 0),
        "comprehensive": (1, 0),
        "compound": (0, 0),
    }
    assert scored([town, alert(2, 61)], [e])["recall"] == 1.0  # a single alert finds it


def test_an_area_incident_matches_alerts_at_places_inside_it() -> None:
    e = Entry("incident-r", "incident", at(60), at(120), "", module="gas_safety", town="linping")
    inside = alert(1, 70)
    outside = alert(2, 70, place="site.yuhang.c01.restaurant-01", sensor="gas_lel-00009")
    up = {PLACE: ["linping.c01", "linping"], "site.yuhang.c01.restaurant-01": ["yuhang"]}
    g = scored([inside, outside], [e], ancestors=up)
    assert g["recall"] == 1.0 and g["false_alert_ids"] == ["alert-2"]


def test_false_alerts_from_faults_are_reported_apart_and_per_1000_sensor_days() -> None:
    e = incident(1, 60, 90)
    faulty = alert(2, 300, place="cell.linping.c01.01", sensor="rain-00007", module="flood")
    stray = alert(3, 500, place="cell.linping.c01.01", sensor="rain-00008", module="flood")
    g = scored([alert(1, 65), faulty, stray], [e, fault(1, 290, 350, "rain-00007")])
    assert (g["alerts_matched"], g["false_alerts"], g["false_alerts_from_faults"]) == (1, 2, 1)
    assert g["faults"] == 1 and g["sensor_days"] == 100.0
    assert g["false_alerts_per_1000_sensor_days"] == 20.0
    assert g["detection_delay"]["mean_s"] == 300.0


def test_group_incidents_are_detected_by_a_systemic_alert_over_their_scope() -> None:
    gid = "incident-regional-linping"
    members = [
        incident(i, 60, 120, place_id=f"cell.linping.c0{i}.01", group=gid) for i in (1, 2, 3)
    ]
    group = Entry(
        "incident-regional-linping",
        "incident",
        at(60),
        at(120),
        "rainfall_intense",
        risk_point="restaurant_gas_leak",
        module="gas_safety",
        kind="regional",
        town="linping",
    )
    singles = [alert(i, 65, place=f"cell.linping.c0{i}.01", sensor=f"rain-{i}") for i in (1, 2, 3)]
    ev = [(m.place_id or "", "gas_safety", "restaurant_gas_leak") for m in members]
    town = systemic(9, "regional", ScopeKind.TOWN, "linping", (60, 120), 70, ev)
    g = scored(singles, [*members, group])
    assert g["incidents"] == 3 and g["recall"] == 1.0  # the group line is not a place
    assert g["groups"] == {"regional": {"incidents": 1, "detected": 0, "recall": 0.0}}
    assert g["groups_missed"] == ["incident-regional-linping"]
    g = scored([*singles, town], [*members, group])
    assert g["groups"]["regional"]["detected"] == 1 and g["false_alerts"] == 0
    assert g["systemic"]["regional"] == {
        "alerts": 1,
        "matched": 1,
        "group_matched": 1,
        "groups": 1,
        "groups_detected": 1,
    }


def test_the_simulators_truth_file_parses_and_a_district_line_gives_the_sensors() -> None:
    sizes = {"towns": 2, "communities": 4, "cells": 1, "sites": 7, "hours": 2}
    sim = Simulation(District(**sizes, incidents=4, regional=1, industry=1))  # type: ignore[arg-type]
    lines = [json.dumps(t) for t in sim.truth()]
    truth = parse_truth(lines)
    assert len(truth.incidents) == sim.summary()["incidents"]
    assert sorted(g.kind for g in truth.groups) == ["industry", "regional"]
    assert all(g.place_id is None for g in truth.groups)
    assert {m.group for m in truth.incidents if m.group} == {g.id for g in truth.groups}
    assert len(truth.faults) == sim.summary()["faults"] and truth.sensors is None
    first = truth.incidents[0]
    assert first.module and first.risk_point and first.town and first.grid_cell
    span = {"start": T0.isoformat(), "end": (T0 + timedelta(hours=12)).isoformat()}
    extra = json.dumps({"type": "district", "sensors": 20000, **span})
    truth = parse_truth([extra, *lines])
    assert truth.sensors == 20000 and truth.days == 0.5


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("{oops", "line 2: Expecting"),
        (
            '{"type": "incident", "id": "x", "start": "2026-03-02T00:00:00+08:00"}',
            "line 2: missing 'end'",
        ),
        (
            '{"type": "fault", "id": "x", "start": "2026-03-02T00:00:00", "end": "x"}',
            "no UTC offset",
        ),
    ],
)
def test_a_bad_truth_line_is_named(line: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_truth(["", line])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.floats(0, 1400)), max_size=30),
    st.lists(st.tuples(st.integers(0, 3), st.floats(0, 1300), st.floats(1, 120)), max_size=10),
)
def test_recall_is_a_share_and_every_alert_is_matched_or_false(
    raised: list[tuple[int, float]], injected: list[tuple[int, float, float]]
) -> None:
    places = [f"site.t.c01.restaurant-{i:02d}" for i in range(4)]
    alerts = [alert(i, t, place=places[p], sensor=f"s{p}") for i, (p, t) in enumerate(raised)]
    entries = [
        incident(i, t, t + d, place_id=places[p], sensor_id=f"s{p}")
        for i, (p, t, d) in enumerate(injected)
    ]
    g = scored(alerts, entries)
    assert g["recall"] is None or 0.0 <= g["recall"] <= 1.0
    assert g["detected"] <= g["incidents"] == len(entries)
    assert g["alerts_matched"] + g["false_alerts"] == len(alert_facts(alerts, DAY))
    assert g["false_alerts_from_faults"] == 0


def test_the_machine_re_checks_are_judged_against_the_incidents_their_alerts_matched() -> None:
    """Right: resolved once the incident is over (or with none), escalated while it is on."""
    places = [f"site.linping.c01.restaurant-{n:02d}" for n in range(7)]

    def case(n: int, end: float | None) -> tuple[Alert, list[Entry]]:
        a = alert(n, 61, place=places[n], sensor=f"gas_lel-{n:05d}")
        if end is None:
            return a, []  # a false alarm: no incident behind it
        return a, [incident(n, 60, end, place_id=places[n], sensor_id=f"gas_lel-{n:05d}")]

    plan = [  # (incident end or none, re-check minute, resolved?)
        (90, 100, True),  # over before the re-check: resolved rightly
        (200, 100, True),  # still on: resolved wrongly
        (200, 100, False),  # still on: escalated rightly
        (90, 100, False),  # over: escalated wrongly
        (None, 100, False),  # nothing to fix: escalated wrongly
        (None, 100, True),  # a false alarm resolved: right
    ]
    alerts, entries, orders, statuses = [], [], [], []
    for n, (end, minute, resolved) in enumerate(plan, start=1):
        a, es = case(n, end)
        alerts.append(a)
        entries += es
        o = order(a, 62, auto=True)
        orders.append(o)
        state = OrderState.AUTO_RESOLVED if resolved else OrderState.OPEN
        statuses.append(status(o, state, minute, cause="recheck"))
    facts = order_facts(orders, statuses, [], {}, DAY)
    rechecks = recheck_outcomes(facts)
    assert rechecks["alert-1"] == (at(100), True) and rechecks["alert-3"] == (at(100), False)
    got = scored(alerts, entries, rechecks=rechecks)["recheck"]
    assert got == {
        "judged": 6,
        "resolved": 3,
        "resolved_while_on": 1,
        "escalated": 3,
        "escalated_after_end": 1,
        "escalated_no_incident": 1,
        "right": 0.5,
    }
    # an order a person took over before its re-check (help requested) is not judged
    helped = order(alert(9, 61), 62, auto=True)
    taken = order_facts(
        [helped], [status(helped, OrderState.OPEN, 70, "help_requested")], [], {}, DAY
    )
    assert recheck_outcomes(taken) == {}
