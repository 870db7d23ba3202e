"""Probing the loopback: does a Kafka broker answer there, and is a port free?

Where this sits: development infrastructure, not in the event flow (the local
KRaft broker started from Apache Kafka's own jars from Maven Central).

:func:`broker_answers` is what ``yujing broker start`` waits on and ``status``
reports: a metadata request that lists at least one broker (every node, for a
cluster that is starting), because a bare TCP connect also succeeds on a broker
that is still starting, or on anything else listening on the port. Its aiokafka
connection errors are silenced for the probe's own thread only, so a probe that
fails while the broker starts logs nothing.
:func:`port_in_use` and :func:`find_free_port` check ports before a start and pick
them for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from pathlib import Path

from streams.runtime.reach import run_quietly

__all__ = ["broker_answers", "find_free_port", "port_in_use"]


#: ports this process has handed out: a port picked but not bound yet looks free again
_HANDED_OUT: set[int] = set()
#: the lowest port picked from, below the kernel's ephemeral range
_LOWEST = 10_000


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (Linux; else IANA's)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49152, 65535


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for tests), never one handed out before.

    Picked below the kernel's ephemeral range: a port from that range (what binding
    port 0 gives) can be taken by any outgoing connection — a test's own Kafka
    client — between the pick and the child's bind (CI saw a worker's web port go
    so)."""
    low, _ = _ephemeral_range()
    pool = range(_LOWEST, low) if low - _LOWEST >= 1000 else range(0)
    for port in random.sample(pool, min(len(pool), 500)):
        if port not in _HANDED_OUT and not _taken(port):
            _HANDED_OUT.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # no room below it
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def port_in_use(port: int) -> bool:
    """True if something listens on (or holds) ``port`` on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port left in TIME_WAIT by a stopped broker counts as free,
        # as it does for Kafka itself; a listening socket still makes bind fail.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def broker_answers(bootstrap: str, timeout: float = 5.0, brokers: int = 1) -> bool:
    """True if a Kafka broker at ``bootstrap`` ("host:port") answers a metadata
    request listing at least ``brokers`` brokers; a bare TCP connect is not enough."""
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except (OSError, ValueError):
        return False
    return run_quietly(
        lambda: _describe_cluster(bootstrap, timeout, brokers), False, "yujing-broker-probe"
    )


async def _describe_cluster(bootstrap: str, timeout: float, brokers: int) -> bool:
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        client_id="yujing-broker-probe",
        request_timeout_ms=max(1000, int(timeout * 1000)),
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return len(client.cluster.brokers()) >= max(1, brokers)
    finally:
        with contextlib.suppress(Exception):
            await client.close()
