"""Fixtures for the local broker's tests: free ports, the ``yujing broker`` command
line, stand-in processes, and a real broker with a temporary home.

The real broker never touches a developer's own broker: its own home, its own free
ports, and it is stopped after the module that uses it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.dev.broker import BrokerConfig, BrokerError, LocalBroker, check_java, find_free_port
from streams.dev.broker.cli import add_broker_commands

Cli = Callable[..., int]


def two_free_ports() -> tuple[int, int]:
    first, second = find_free_port(), find_free_port()
    while second == first:
        second = find_free_port()
    return first, second


@pytest.fixture
def free_ports() -> tuple[int, int]:
    """A client port and a controller port, both free right now."""
    return two_free_ports()


@pytest.fixture
def yujing() -> Cli:
    """Run ``yujing <argv>`` with only the broker commands; returns the exit code."""

    def run(*argv: str) -> int:
        parser = argparse.ArgumentParser(prog="yujing")
        add_broker_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(list(argv))
        return int(args.func(args))

    return run


@pytest.fixture
def stand_in() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``python -c code argv...`` (a process whose command line carries what a
    broker's does, without a JVM); each is killed afterwards.

    The call returns once the command line shows ``argv`` (until exec, a child's
    command line is still its parent's).
    """
    started: list[subprocess.Popen[bytes]] = []

    def start(code: str, *argv: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-c", code, *argv])
        started.append(proc)
        cmdline = Path(f"/proc/{proc.pid}/cmdline")
        if argv and cmdline.parent.parent.joinpath("self", "cmdline").exists():
            deadline = time.monotonic() + 30
            while argv[-1].encode() not in cmdline.read_bytes().split(b"\0"):
                assert time.monotonic() < deadline, "the stand-in did not start"
                time.sleep(0.01)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


@pytest.fixture
def needs_java() -> None:
    """Skip where no Java 17+ can run Kafka."""
    try:
        check_java()
    except BrokerError as exc:
        pytest.skip(f"no usable Java for the local broker: {exc}")


@pytest.fixture(scope="module")
def real_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A LocalBroker with its own home and ports (not started); stopped afterwards.

    Each test that uses it starts it first (``start`` is idempotent), so tests may
    stop it.
    """
    try:
        check_java()
    except BrokerError as exc:
        pytest.skip(f"no usable Java for the local broker: {exc}")
    port, controller_port = two_free_ports()
    local = LocalBroker(
        BrokerConfig(
            home=tmp_path_factory.mktemp("broker-home"),
            port=port,
            controller_port=controller_port,
        )
    )
    try:
        yield local
    finally:
        local.stop()
