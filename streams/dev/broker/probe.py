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
import socket

from streams.runtime.reach import run_quietly

__all__ = ["broker_answers", "find_free_port", "port_in_use"]


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
