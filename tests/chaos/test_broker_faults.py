"""Chaos: a broker of three killed, then another paused, while workers stream a district.

A real three-node KRaft cluster from Kafka's own jars (``yujing broker start
--nodes 3``'s :class:`~streams.dev.broker.LocalCluster`, on free ports, its own
home), every topic on three replicas of which two must be in sync
(``YUJING_REPLICATION_FACTOR=3``), writes acked by all. Mid-run one node is
killed with SIGKILL and later started again; then another is frozen with SIGSTOP
for 30 s. The workers ride through both, and every output is checked
(``chaos.check``): 0 lost, 0 duplicate notifications, exactly one breach per
(order, stage).
"""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chaos import Expected, check, produce, report, simulate, wait_progress
from support import make_stack

from streams.dev.broker import BrokerConfig, BrokerError, LocalCluster, check_java
from streams.dev.broker.probe import port_in_use

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

PAUSE_S = 30.0  # the fault itself: how long one broker stays frozen


def _free_runs(nodes: int = 3) -> tuple[int, int]:
    """A client port and a controller port each starting ``nodes`` free ports in a row."""
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(49000, 59000)
        wanted = [p + i for p in (port, port + 50) for i in range(nodes)]
        if not any(port_in_use(p) for p in wanted):
            return port, port + 50
    raise AssertionError("no free run of ports in 49000-59049")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCluster, str]]:
    try:
        check_java()
    except BrokerError as exc:
        pytest.skip(f"no usable Java for the local brokers: {exc}")
    port, controller_port = _free_runs()
    home = tmp_path_factory.mktemp("chaos-cluster")
    local = LocalCluster(BrokerConfig(home=home, port=port, controller_port=controller_port))
    try:
        yield local, local.start(timeout=180)
    finally:
        for pid in local.running_pids():  # never leave a node frozen behind
            os.kill(pid, signal.SIGCONT)
        local.stop()


def test_t4_a_broker_killed_and_another_paused_30_s_lose_and_double_nothing(
    cluster: tuple[LocalCluster, str], tmp_path: Path
) -> None:
    local, bootstrap = cluster
    work = simulate(tmp_path, hours=12, incidents=8, seed=4)
    expected = Expected.of(work.events)
    started = time.monotonic()
    prefix = f"c{uuid.uuid4().hex[:8]}."
    env = {"YUJING_REPLICATION_FACTOR": "3", "YUJING_STALL_AFTER_S": "5"}
    stack = make_stack(bootstrap, prefix, tmp_path / "stack", env=env).start()
    try:
        produce(stack, work.events)
        wait_progress(stack, 0.2)
        killed = local.running_pids()[1]
        os.kill(killed, signal.SIGKILL)
        at_kill = wait_progress(stack, 0.4, timeout=180)  # two of three nodes carry on
        local.start(timeout=180)  # the killed node comes back and catches up
        paused = local.running_pids()[2]
        os.kill(paused, signal.SIGSTOP)
        try:
            time.sleep(PAUSE_S)
        finally:
            os.kill(paused, signal.SIGCONT)
        figures = check(stack, work, expected, started)
    finally:
        stack.stop()
    report(
        figures.line("T4 broker kill -9, SIGSTOP 30 s")
        + f"; node killed at 20%, {at_kill:.0%} done on two nodes"
    )
