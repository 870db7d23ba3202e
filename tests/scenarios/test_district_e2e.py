"""A simulated slice of the district model, on the real broker: its places roll up in the rules.

A real ``yujing worker`` on the default district model, and ``yujing simulate
--kafka`` for one town's first five communities with one injected regional
incident (one cause hitting a cell sensor in several of them within one rule
window) and nothing else. The town-wide rule
fires for that town, from simulated data alone, naming the communities the
ground truth names; its order goes to the department that answers for flood
control; the risk map rolls the town and the district up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import Stack

from schemas import Alert, DispatchOrder
from schemas.registry import ALERTS, DISPATCH_ORDERS
from streams.core.alerts.rules import LEVELS
from streams.core.shared.catalogue import load_catalogue
from streams.dev.runner import get_json
from streams.tools.simulate.command import District, Simulation

pytestmark = pytest.mark.integration

SLICE = {"towns": 1, "communities": 5, "cells": 1, "sites": 1}
DAY = {"hours": 3.0, "incidents": 0, "regional": 1, "fault_rate": 0.0, "seed": 3}


def test_a_simulated_regional_incident_fires_the_town_wide_rule(
    make_stack_env: Callable[..., Stack], tmp_path: Path
) -> None:
    sim = Simulation(District(**SLICE, **DAY))  # type: ignore[arg-type]
    truth = sim.truth()
    (group,) = [t for t in truth if t["risk_kind"] == "regional"]
    members = [t for t in truth if t.get("group") == group["id"]]
    assert len(members) == len(group["members"]) >= 3
    communities = {m["community"] for m in members}

    stack = make_stack_env()  # the default district model: every simulated place is known
    args = [f"--{k}={v}" for k, v in {**SLICE, **DAY}.items() if k != "fault_rate"]
    args += ["--fault-rate=0", "--kafka", "--quiet", "--truth", str(tmp_path / "truth.jsonl")]
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "simulate", *args],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    written = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    assert written == truth  # the command simulated exactly this slice

    def town_wide() -> list[Alert]:
        return [
            a
            for a in stack.read(ALERTS, Alert, timeout_s=2.0)
            if a.rule_id == "town_wide_risk" and a.scope == group["town"]
        ]

    alerts = stack.wait_for(
        lambda: [a for a in town_wide() if a.portrait and len(a.portrait.members) == len(members)],
        120,
        "the town-wide alert over every community of the regional incident",
    )
    alert = max(alerts, key=lambda a: a.version)
    assert alert.portrait is not None and set(alert.portrait.members) == communities
    assert {c.place_id for c in alert.portrait.contributions} == {m["place_id"] for m in members}
    assert alert.module == group["module"] and alert.risk_points == [group["risk_point"]]
    assert alert.window_start is not None
    assert all(alert.window_start.isoformat() <= m["start"] for m in members)

    # its one order: the department that answers for the module, escalated to the district
    order = stack.wait_for(
        lambda: [
            o for o in stack.read(DISPATCH_ORDERS, DispatchOrder) if o.alert_id == alert.alert_id
        ],
        60,
        "the order for the town-wide alert",
    )[0]
    assert (order.receiver, order.assignee_role) == (f"dept.{group['department']}", "department")
    assert (order.department, order.town) == (group["department"], group["town"])

    # the map rolls the cells up to their communities, the town and the district
    status, body = get_json(f"{stack.web}/map")
    assert status == 200
    scopes = body["scopes"]
    single = load_catalogue().risk_point(group["risk_point"]).severity
    for scope in (*communities, *(m["grid_cell"] for m in members)):
        assert scopes[scope]["level"] == single, (scope, scopes.get(scope))
    worst = max(single, alert.level, key=LEVELS.index)
    for scope in (group["town"], members[0]["district"]):
        assert scopes[scope]["level"] == worst, (scope, scopes.get(scope))
    untouched = {p.community for p in sim.places} - communities
    assert untouched
    assert all(scopes[c]["level"] == "none" for c in untouched)
