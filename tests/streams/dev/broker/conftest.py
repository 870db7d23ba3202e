"""Fixtures for the local broker's tests: free ports, the ``yujing broker`` command
line, and a real broker with a temporary home.

The real broker never touches a developer's own broker: its own home, its own free
ports, and it is stopped after the module that uses it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator

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
