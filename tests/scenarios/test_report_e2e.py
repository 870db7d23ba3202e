"""``yujing report`` on a small simulated day, checked against a second computation.

Real processes on the real broker: sinks and a worker on a simulated clock that
starts at the simulated day's midnight, ``yujing simulate --kafka`` for a small
district of the default district model, with a regional and an industry group
incident (so systemic rules fire), and this test as the field workers: it signs
and assigns some orders and resolves others. Once the worker has processed
everything, it is stopped, so the topics hold still; then ``yujing report
--json`` runs as a user would, and every figure is recomputed from the raw
topics by ``report_oracle`` (plain loops over JSON, nothing shared with the
report's code) and must be the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from report_oracle import oracle, records_as_json, stub_keys
from support import Stack, source_topics, wait_for, wait_processed

from schemas import DispatchOrder, DispatchUpdate, OrderAction, OrderStatus, SlaBreach
from schemas.registry import (
    ALERTS,
    DISPATCH_ORDERS,
    NOTIFICATIONS,
    ORDER_STATUS,
    RECEIPTS,
    SLA_BREACHES,
)
from streams.runtime.kafka_io import read_to_end
from streams.tools.simulate.command import DEFAULT_START, District, Simulation

pytestmark = pytest.mark.integration

SEED = 1
SIZES = {"towns": 2, "communities": 4, "cells": 1, "sites": 7, "hours": 2.0, "incidents": 6}
GROUPS = {"regional": 1, "industry": 1}  # one cause over a town, one over an industry
SPEED = 300  # the worker's clock: five simulated minutes a wall second
CST = timezone(timedelta(hours=8))
DAY = datetime(2026, 3, 2, tzinfo=CST)
TOPICS = {
    "alerts": ALERTS,
    "orders": DISPATCH_ORDERS,
    "statuses": ORDER_STATUS,
    "breaches": SLA_BREACHES,
    "notifications": NOTIFICATIONS,
    "receipts": RECEIPTS,
}


def report(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **stack.env}
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "report", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def same(got: Any, want: Any, where: str = "") -> None:
    """``got`` has every key of ``want`` with an equal value (floats to 1e-9)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        for k, v in want.items():
            assert k in got, f"{where}.{k} missing"
            same(got[k], v, f"{where}.{k}")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-9), where
    else:
        assert got == want, where


def act_as_field_workers(stack: Stack) -> list[str]:
    """Sign and assign half of the open orders; resolve (with feedback) every third of them."""
    orders = stack.read(DISPATCH_ORDERS, DispatchOrder)
    states: dict[str, set[str]] = {}
    for s in stack.read(ORDER_STATUS, OrderStatus):
        states.setdefault(s.order_id, set()).add(s.state.value)
    open_ = [o for o in orders if not states.get(o.order_id, set()) & {"auto_resolved", "closed"}]
    chosen = open_[::2]
    steps = [OrderAction.SIGNED, OrderAction.ASSIGNED]
    for i, o in enumerate(chosen):
        done = steps + ([OrderAction.RESOLVED, OrderAction.FEEDBACK] if i % 3 == 0 else [])
        stack.produce(
            *(
                DispatchUpdate(
                    update_id=f"u-{o.order_id}-{a.value}",
                    order_id=o.order_id,
                    action=a,
                    actor="grid-worker-7",
                    event_time=stack.clock(),  # now, on the pipeline's (simulated) clock
                )
                for a in done
            )
        )
    return [o.order_id for o in chosen]


def test_the_report_of_a_simulated_day_equals_an_independent_recomputation(
    stack_factory: Callable[..., Stack], tmp_path: Path
) -> None:
    sim = Simulation(District(**SIZES, **GROUPS, seed=SEED))  # type: ignore[arg-type]
    env = {
        "YUJING_CLOCK_EPOCH": DEFAULT_START,
        "YUJING_CLOCK_ANCHOR": f"{time.time():.3f}",
        "YUJING_CLOCK_SPEED": str(SPEED),
    }
    stack = stack_factory(env=env)
    truth_path = tmp_path / "truth.jsonl"
    args = [f"--{k}={v}" for k, v in {**SIZES, **GROUPS}.items()]
    args += ["--seed", str(SEED), "--kafka", "--quiet", "--truth", str(truth_path)]
    sim_run = subprocess.run(
        [sys.executable, "-m", "streams.cli", "simulate", *args],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert sim_run.returncode == 0, sim_run.stderr

    topics = source_topics(stack.prefix)
    wait_processed(stack.bootstrap, stack.group, topics, timeout=120)
    wait_for(lambda: stack.read(DISPATCH_ORDERS, DispatchOrder), 30, "the first orders")
    signed = act_as_field_workers(stack)
    assert signed, "no open order to act on"
    wait_processed(stack.bootstrap, stack.group, topics, timeout=120)

    def signed_seen() -> bool:
        seen = {
            s.order_id for s in stack.read(ORDER_STATUS, OrderStatus) if s.state.value == "signed"
        }
        return set(signed) <= seen

    wait_for(signed_seen, 60, "the field workers' updates")
    wait_for(lambda: stack.read(SLA_BREACHES, SlaBreach), 60, "a missed deadline")
    stack.stop_worker()  # the topics hold still from here on

    sensors = sim.summary()["sensors"]
    common = ["--truth", str(truth_path), "--sensors", str(sensors), "--sms-url", stack.sms]
    common += ["--voice-url", stack.voice]
    done = report(stack, "--day", "2026-03-02", "--json", *common)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)

    names = {k: stack.prefix + spec.name for k, spec in TOPICS.items()}
    raw = read_to_end(stack.bootstrap, list(names.values()))
    records = {k: records_as_json(raw[name]) for k, name in names.items()}
    messages = stack.sms_messages() + stack.voice_calls()
    truth = [json.loads(line) for line in truth_path.read_text().splitlines()]
    town_of = {p.place_id: p.town for p in sim.places}
    want = oracle(
        records, DAY, DAY + timedelta(days=1), town_of, truth, sensors, stub_keys(messages)
    )

    # nothing trivial: the day had alerts, orders, breaches, people and matches
    assert want["alerts"]["total"] > 0 and want["orders"]["total"] > 0
    assert want["sla"]["observed"] > 0 and want["times"]["mtta"]["n"] >= len(signed)
    assert want["ground_truth"]["incidents"] == sim.summary()["incidents"]
    assert set(want["ground_truth"]["groups"]) == set(GROUPS)
    assert want["ground_truth"]["detected"] > 0 and want["notifications"]["requested"] > 0
    same(got["alerts"], want["alerts"], "alerts")
    same(got["orders"], want["orders"], "orders")
    sla = dict(want["sla"])
    assert got["sla"]["breaches"]["observed"] == sla.pop("observed")
    same(got["sla"], sla, "sla")
    for key in ("auto_disposal", "times", "escalations", "notifications", "ground_truth"):
        same(got[key], want[key], key)
    gt = want["ground_truth"]
    same(
        got["summary"],
        {
            "sensors": sensors,
            "incidents": gt["incidents"],
            "alerts": want["alerts"]["total"],
            "orders": want["orders"]["total"],
            "auto_disposed_ratio": want["auto_disposal"]["ratio"],
            "auto_disposed_per_day": want["auto_disposal"]["per_day"],
            "recall": gt["recall"],
            "false_alerts_per_1000_sensor_days": gt["false_alerts_per_1000_sensor_days"],
            "systemic_alerts": want["alerts"]["systemic"],
            "sla_breaches_observed": want["sla"]["observed"],
            "duplicate_notifications": want["notifications"]["stubs"]["duplicate_notifications"],
        },
        "summary",
    )

    # a part of the day: the same recomputation over a shorter period
    until = DAY + timedelta(hours=1, minutes=30)
    part = report(
        stack, "--since", DAY.isoformat(), "--until", until.isoformat(), "--json", *common
    )
    assert part.returncode == 0, part.stderr
    got_part = json.loads(part.stdout)
    want_part = oracle(records, DAY, until, town_of, truth, sensors, stub_keys(messages))
    want_part["alerts"].pop("per_hour")  # its hours are the part's, checked in the unit tests
    same(got_part["alerts"], want_part["alerts"], "part.alerts")
    same(got_part["orders"], want_part["orders"], "part.orders")
    same(got_part["ground_truth"], want_part["ground_truth"], "part.ground_truth")

    # the terminal tables and the HTML page, as a leader would open them
    page = tmp_path / "day.html"
    text = report(stack, "--day", "2026-03-02", "--html", str(page), *common)
    assert text.returncode == 0, text.stderr
    assert (
        "DEPARTMENTS: HANDLING" in text.stdout
        and f"alerts {want['alerts']['total']}" in text.stdout
    )
    html = page.read_text()
    assert '<svg id="alerts-per-hour"' in html and '<svg id="sla-per-department"' in html
    assert html.count('class="bar"') >= 24 + len(want["sla"]["by_department"])


def test_a_prefix_with_no_topics_is_named_in_one_line(
    kafka_bootstrap: str, unique_prefix: str
) -> None:
    env = {
        **os.environ,
        "YUJING_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "YUJING_TOPIC_PREFIX": unique_prefix + ".",
    }
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "report", "--day", "2026-03-02"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert f"topic '{unique_prefix}.yujing.alerts.v1' does not exist" in done.stderr
    assert "Traceback" not in done.stderr
