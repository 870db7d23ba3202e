"""Tests of the broker process bookkeeping (streams.dev.broker.process), no broker.

Stand-in processes (the ``stand_in`` fixture) are plain Python sleepers whose command
lines carry what a broker's does (``kafka.Kafka`` and a ``server.properties`` path):
the pid file, adoption and stopping act on real processes, only not on a JVM.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from subprocess import Popen

import pytest

from streams.dev.broker import BrokerConfig, LocalBroker, find_free_port
from streams.dev.broker.files import BrokerFiles
from streams.dev.broker.process import BrokerProcess, is_alive, wait_exit

StandIn = Callable[..., Popen[bytes]]  # the ``stand_in`` fixture: (code, *argv) -> process
_SLEEP = "import time; time.sleep(60)"
# Notes each SIGTERM in the file named by its first argument, and carries on.
_IGNORE_TERM = """
import pathlib, signal, sys, time
mark = pathlib.Path(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *_: mark.write_text("TERM"))
mark.write_text("ready")
time.sleep(60)
"""


def _needs_proc() -> None:
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs /proc to list processes")


def test_stop_never_kills_a_process_it_did_not_start(tmp_path: Path, stand_in: StandIn) -> None:
    # An unrelated live process whose command line even mentions kafka.Kafka, but
    # not this home's server.properties: a recycled pid must not be killed.
    bystander = stand_in(_SLEEP, "kafka.Kafka")
    broker = LocalBroker(BrokerConfig(home=tmp_path, port=find_free_port()))
    for pid in (bystander.pid, os.getpid()):
        broker.dir.mkdir(parents=True, exist_ok=True)
        broker.pid_path.write_text(f"{pid}\n")
        assert broker.stop(timeout=1) is False
        assert not broker.pid_path.exists()
        assert broker.status().running is False
    assert bystander.poll() is None


def test_a_broker_whose_pid_file_was_lost_is_adopted_and_stopped(
    tmp_path: Path, stand_in: StandIn
) -> None:
    _needs_proc()
    broker = LocalBroker(BrokerConfig(home=tmp_path, port=find_free_port()))
    broker.dir.mkdir(parents=True)
    ours = stand_in(_SLEEP, "kafka.Kafka", str(broker.properties_path))
    assert not broker.pid_path.exists()

    assert broker.process.owned_pid() == ours.pid
    assert broker.pid_path.read_text() == f"{ours.pid}\n"  # written again
    assert broker.stop(timeout=10) is True
    assert not is_alive(ours.pid)  # stop reaped it: our own child here
    assert not broker.pid_path.exists()
    assert broker.stop() is False


def test_two_candidates_are_not_guessed_between(tmp_path: Path, stand_in: StandIn) -> None:
    _needs_proc()
    files = BrokerFiles(tmp_path)
    files.dir.mkdir(parents=True)
    for _ in range(2):
        stand_in(_SLEEP, "kafka.Kafka", str(files.properties_path))
    assert BrokerProcess(files).owned_pid() is None
    assert not files.pid_path.exists()


def test_a_broker_that_ignores_sigterm_is_killed_after_the_timeout(
    tmp_path: Path, stand_in: StandIn
) -> None:
    _needs_proc()
    files = BrokerFiles(tmp_path)
    mark = tmp_path / "mark"
    stubborn = stand_in(_IGNORE_TERM, str(mark), "kafka.Kafka", str(files.properties_path))
    while not mark.exists():  # its handler is installed once it writes "ready"
        assert wait_exit(stubborn.pid, 0.05) is False, "the stand-in died early"
    BrokerProcess(files).terminate(stubborn.pid, timeout=1)
    assert not is_alive(stubborn.pid)
    assert mark.read_text() == "TERM"  # asked first, killed only after the timeout


def test_is_alive_and_wait_exit(stand_in: StandIn) -> None:
    assert is_alive(os.getpid())
    quick = stand_in("pass")
    assert wait_exit(quick.pid, 30) is True
    assert not is_alive(quick.pid)
    sleeper = stand_in(_SLEEP)
    assert wait_exit(sleeper.pid, 0.2) is False and is_alive(sleeper.pid)
