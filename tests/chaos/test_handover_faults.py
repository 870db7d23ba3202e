"""Chaos: deadlines and deliveries handed over — a skewed restart, a failover, a failing provider.

Like ``test_worker_faults.py``, each scenario streams a simulated slice of the
district (or one alarm, for a deadline) through real workers on a real broker,
injects its fault and checks every output (``chaos.check``): 0 lost, 0 duplicate
notifications, exactly one breach per (order, stage).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from chaos import Expected, check, produce, report, simulate, wait_progress
from support import Stack, wait_for

from schemas import DispatchOrder, SensorReading, SlaBreach
from schemas.registry import DISPATCH_ORDERS, SLA_BREACHES
from streams.dev.runner import Child, wait_http

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

WATCHDOG = {"YUJING_STALL_AFTER_S": "5"}


def _restart_skewed(stack: Stack, skew_s: float) -> None:
    """kill -9 the worker and start it again with its clock ``skew_s`` (pipeline seconds)
    off the one it had: the same epoch and speed, read from another anchor."""
    assert stack.worker is not None
    stack.worker.kill()
    epoch = float(stack.env["YUJING_CLOCK_EPOCH"])
    speed = float(stack.env["YUJING_CLOCK_SPEED"])
    anchor = float(stack.env.get("YUJING_CLOCK_ANCHOR") or epoch)
    stack.env["YUJING_CLOCK_ANCHOR"] = f"{anchor - skew_s / speed:.3f}"
    stack.start_worker()


@pytest.mark.parametrize("skew_s", [-180.0, 180.0], ids=["behind", "ahead"])
def test_t11_a_deadline_across_kill_9_with_a_skewed_clock_fires_exactly_once(
    stack_factory: Callable[..., Stack], skew_s: float
) -> None:
    """An emergency order's 5-minute signing deadline (5 s of wall time here) passes while
    its worker is down; the worker comes back with its clock three minutes behind (the
    deadline is still ahead of it) or ahead (long past), and is killed and restarted once
    more after the breach: each (order, stage) is breached exactly once."""
    stack = stack_factory(env=WATCHDOG)
    alarm = SensorReading(
        reading_id="t11-gas-1",
        sensor_id="t11-gas-1",
        sensor_kind="gas_lel",
        place_id="site.t11.kitchen",
        value=35.0,
        event_time=datetime.now(UTC),
    )
    stack.produce(alarm)
    [order] = wait_for(lambda: stack.read(DISPATCH_ORDERS, DispatchOrder), 60, "the order")
    _restart_skewed(stack, skew_s)
    first = min(order.deadlines.values())

    def breached() -> list[SlaBreach]:
        return [b for b in stack.read(SLA_BREACHES, SlaBreach) if b.order_id == order.order_id]

    wait_for(lambda: stack.clock() > first and breached(), 120, "the first breach")
    _restart_skewed(stack, -skew_s)  # and back: a second chance to publish it twice
    stack.settle()
    # Reading the topic takes a moment of the (fast) pipeline clock: a later deadline
    # may pass, and be breached, meanwhile. Every deadline passed before the read
    # must be breached; none that had not passed when it ended may be.
    before = stack.clock()
    per_stage = Counter(b.stage for b in breached())
    after = stack.clock()
    due = {stage for stage, deadline in order.deadlines.items() if deadline < before}
    may = {stage for stage, deadline in order.deadlines.items() if deadline < after}
    assert due, "no deadline has passed: the scenario would prove nothing"
    assert due <= set(per_stage) <= may, f"breached {dict(per_stage)}, due {sorted(due)}"
    assert {s: n for s, n in per_stage.items() if n != 1} == {}, per_stage
    report(f"T11 clock {skew_s:+.0f} s: breaches {dict(per_stage)}, exactly once each")


def test_failover_a_killed_workers_partitions_and_deadlines_move_to_the_other(
    stack_factory: Callable[..., Stack], tmp_path: Path
) -> None:
    work = simulate(tmp_path, hours=12, incidents=8, seed=5)
    expected = Expected.of(work.events)
    started = time.monotonic()
    stack = stack_factory(env=WATCHDOG)
    other, web = stack.extra_worker("worker-b")
    wait_http(other, f"{web}/ready", timeout=120)
    produce(stack, work.events)
    share = wait_progress(stack, 0.4)
    assert stack.worker is not None
    stack.worker.kill()  # and not restarted: worker-b must take everything over
    stack.worker = None
    stack.web = web  # what check() reads (metrics) is the survivor's now
    figures = check(stack, work, expected, started)
    report(figures.line("failover") + f"; one of two workers killed at {share:.0%}")


def test_t7_a_provider_failing_30_percent_and_answering_in_5_s_loses_and_doubles_nothing(
    stack_factory: Callable[..., Stack], tmp_path: Path
) -> None:
    work = simulate(tmp_path, hours=3, incidents=4, seed=7)
    expected = Expected.of(work.events)
    started = time.monotonic()
    flaky = ["--sms-failure-rate", "0.3", "--sms-latency-ms", "5000", "--seed", "7"]
    stack = stack_factory(env=WATCHDOG, sinks_args=flaky)
    produce(stack, work.events)
    figures = check(stack, work, expected, started)
    import json
    import urllib.request

    with urllib.request.urlopen(f"{stack.sms}/v1/stats", timeout=5) as resp:
        stats = json.loads(resp.read())
    assert stats["injected_failures"] > 0, stats  # the provider did fail: retries happened
    report(figures.line("T7 SMS 30% 5xx, 5 s") + f"; provider {stats}")


CHURN_EVERY_S = 30.0
CHURN_FOR_S = 180.0


def test_t9_workers_joining_and_leaving_every_30_s_for_3_minutes_lose_nothing(
    stack_factory: Callable[..., Stack], tmp_path: Path
) -> None:
    """Two workers take turns: every 30 s one joins or leaves (SIGTERM), for 3 minutes,
    while the district's stream keeps arriving in slices; one always runs."""
    work = simulate(tmp_path, hours=12, incidents=8, seed=9)
    expected = Expected.of(work.events)
    started = time.monotonic()
    stack = stack_factory(env=WATCHDOG)
    rounds = int(CHURN_FOR_S / CHURN_EVERY_S)
    size = -(-len(work.events) // rounds)
    slices = [work.events[i : i + size] for i in range(0, len(work.events), size)]  # in order
    other: Child | None = None
    changes = []
    for n, part in enumerate(slices):
        began = time.monotonic()
        produce(stack, part)
        if other is None:  # a second worker joins
            other, _ = stack.extra_worker(f"worker-b{n}")
            changes.append("b joins")
        elif stack.worker is not None:  # the first leaves; the second carries on
            stack.stop_worker()
            changes.append("a leaves")
        else:  # the first comes back; the second leaves
            stack.start_worker()
            other.stop()
            other = None
            changes.append("a joins, b leaves")
        time.sleep(max(0.0, CHURN_EVERY_S - (time.monotonic() - began)))
    if stack.worker is None:
        stack.start_worker()
    figures = check(stack, work, expected, started)
    report(figures.line("T9 churn") + f"; {len(changes)} changes: {', '.join(changes)}")
