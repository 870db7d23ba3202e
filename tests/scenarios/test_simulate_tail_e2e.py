"""``yujing simulate`` drives the whole pipeline and ``yujing tail`` shows its alerts live.

Real processes on the real broker: a worker and sinks (the stack), ``yujing
tail alerts --town ...`` started first and told to stop after the expected
number of alerts, then ``yujing simulate --kafka`` for a small district. Every
alert the tail prints is one of the incidents in the simulator's ground truth.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import Stack, wait_for

from streams.dev.runner import spawn
from streams.tools.simulate.command import District, Simulation

pytestmark = pytest.mark.integration

SEED = 1
SMALL = {"towns": 1, "communities": 1, "cells": 1, "sites": 7, "hours": 2.0, "incidents": 4}


def test_simulated_district_flows_to_alerts_that_tail_shows_live(
    make_stack_env: Callable[..., Stack], tmp_path: Path
) -> None:
    stack = make_stack_env()
    sim = Simulation(District(**SMALL, seed=SEED))
    # one signal per incident (two incidents may share a place: two sensors of one cell)
    expected = sorted(s.place_id for s in sim.expected_signals())
    incidents = sorted(t["place_id"] for t in sim.truth() if t["type"] == "incident")
    assert expected == incidents and len(expected) == 4

    town = sim.places[0].town
    tail = spawn(
        "tail",
        ["tail", "alerts", "--town", town, "--count", str(len(expected)), "--timeout", "90"],
        stack.env,
        tmp_path,
    )
    wait_for(lambda: "tailing " in tail.log_path.read_text(), timeout=30, what="tail ready")

    args = ["--towns", "1", "--communities", "1", "--cells", "1", "--sites", "7"]
    args += ["--hours", "2", "--incidents", "4", "--seed", str(SEED), "--kafka", "--quiet"]
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "simulate", *args],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "produced" in done.stderr

    assert tail.proc.wait(timeout=100) == 0, tail.log_tail()
    text = tail.log_path.read_text()
    shown = [line.split()[1] for line in text.splitlines() if line.startswith("    where")]
    assert sorted(shown) == expected, text
    assert text.count("ALERT ") == len(expected)
    for t in sim.truth():
        if t["type"] == "incident":
            assert f"{t['module']}: {t['risk_point']}" in text, text
