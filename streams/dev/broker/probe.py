"""Probing the loopback: does a Kafka broker answer there, and is a port free?

Where this sits: development infrastructure, not in the event flow (the local
KRaft broker started from Apache Kafka's own jars from Maven Central).

:func:`broker_answers` is what ``yujing broker start`` waits on and ``status``
reports: a metadata request that lists at least one broker (every node, for a
cluster that is starting), because a bare TCP connect also succeeds on a broker
that is still starting, or on anything else listening on the port. Its aiokafka
connection errors are silenced for the probe's own thread only, so a probe that
fails while the broker starts logs nothing. A secure broker (``start --secure``) is
probed over SASL_SSL with a :class:`Login` (``admin``'s), trusting only its own CA.
:func:`port_in_use` and :func:`find_free_port` check ports before a start and pick
them for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.runtime.reach import run_quietly

__all__ = ["SASL_MECHANISM", "Login", "broker_answers", "find_free_port", "port_in_use"]

#: The SASL mechanism of a secure broker's client listener.
SASL_MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class Login:
    """A user of a secure broker: SCRAM-SHA-512 over TLS, trusting the CA in ``cafile``.

    The password is left out of the ``repr``, so it never lands in a log or a message.
    """

    username: str
    password: str = field(repr=False)
    cafile: Path

    def aiokafka_options(self) -> dict[str, Any]:
        """The security options of an aiokafka client (``AIOKafkaClient``, consumers...)."""
        from aiokafka.helpers import create_ssl_context

        return {
            "security_protocol": "SASL_SSL",
            "ssl_context": create_ssl_context(cafile=str(self.cafile)),
            "sasl_mechanism": SASL_MECHANISM,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }

    def kafka_python_options(self) -> dict[str, Any]:
        """The security options of a kafka-python client (admin, consumer, producer)."""
        return {
            "security_protocol": "SASL_SSL",
            "ssl_cafile": str(self.cafile),
            "sasl_mechanism": SASL_MECHANISM,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }


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


def broker_answers(
    bootstrap: str, timeout: float = 5.0, brokers: int = 1, login: Login | None = None
) -> bool:
    """True if a Kafka broker at ``bootstrap`` ("host:port") answers a metadata
    request listing at least ``brokers`` brokers; a bare TCP connect is not enough.
    ``login``: a secure broker, asked as that user (refused credentials: False)."""
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except (OSError, ValueError):
        return False
    return run_quietly(
        lambda: _describe_cluster(bootstrap, timeout, brokers, login),
        False,
        "yujing-broker-probe",
    )


async def _describe_cluster(
    bootstrap: str, timeout: float, brokers: int, login: Login | None
) -> bool:
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        client_id="yujing-broker-probe",
        request_timeout_ms=max(1000, int(timeout * 1000)),
        **(login.aiokafka_options() if login is not None else {}),
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return len(client.cluster.brokers()) >= max(1, brokers)
    finally:
        with contextlib.suppress(Exception):
            await client.close()
