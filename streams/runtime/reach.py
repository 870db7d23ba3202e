"""Is the broker there? One quick probe before a tool talks to Kafka.

Outside the event flow: every command that reads or writes topics (worker,
replay, tail, simulate, demo, bench) asks first, so an unreachable broker is one
line within seconds ("broker not reachable at HOST:PORT"), never a client that
retries for half a minute and then dies with a traceback.

The probe connects to each bootstrap server, asks for the cluster's metadata,
and then connects to every broker the cluster advertises: a broker whose
advertised listener cannot be reached from here (a container's internal name,
say) answers the bootstrap but fails every produce and fetch afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

#: Seconds the whole probe may take; tools must speak within 10 s.
PROBE_TIMEOUT_S = 4.0

T = TypeVar("T")

_AIOKAFKA_LOGGERS = ("aiokafka", "aiokafka.conn", "aiokafka.cluster", "aiokafka.client")


class OneLineError(Exception):
    """A start-up failure a person can act on: the command prints it as one line and
    exits with ``exit_code``, no traceback."""

    exit_code = 2


class BrokerUnreachable(OneLineError):
    """No broker answers at the configured address."""

    exit_code = 3

    def __init__(self, bootstrap: str, why: str = "") -> None:
        self.bootstrap = bootstrap
        hint = f" ({why})" if why else ""
        super().__init__(f"broker not reachable at {bootstrap}{hint}")


def servers(bootstrap: str) -> list[tuple[str, int]]:
    """``"h1:p1,h2:p2"`` → ``[("h1", p1), ("h2", p2)]``; a bad entry is unreachable.

    >>> servers("127.0.0.1:9092, [::1]:9093")
    [('127.0.0.1', 9092), ('::1', 9093)]
    """
    out = []
    for part in bootstrap.split(","):
        part = part.strip()
        if part.startswith("kafka://"):
            part = part[len("kafka://") :]
        host, sep, port = part.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise BrokerUnreachable(bootstrap, f"{part!r} is not HOST:PORT")
        out.append((host.strip("[]") or "127.0.0.1", int(port)))
    return out


def require_broker(bootstrap: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Return if a Kafka broker answers at ``bootstrap``, else raise :class:`BrokerUnreachable`.

    Takes at most about ``timeout`` seconds, however many servers are listed.
    """
    deadline = time.monotonic() + timeout
    addresses = servers(bootstrap)
    reachable = []
    for host, port in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if _connects(host, port, min(left, timeout / len(addresses))):
            reachable.append(f"{host}:{port}")
    if not reachable:
        raise BrokerUnreachable(bootstrap)
    left = max(0.5, deadline - time.monotonic())
    answering = ",".join(reachable)
    why = run_quietly(
        lambda: asyncio.wait_for(_metadata(answering, left), left),
        "no Kafka metadata answer",
        "yujing-reach",
    )
    if why:
        raise BrokerUnreachable(bootstrap, why)


def _connects(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=max(0.1, timeout)):
            return True
    except OSError:
        return False


class _ThreadFilter(logging.Filter):
    """Drop the records of one thread, and nothing else."""

    def __init__(self, thread_id: int) -> None:
        super().__init__()
        self.thread_id = thread_id

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread_id


def run_quietly(work: Callable[[], Awaitable[T]], default: T, name: str) -> T:
    """``work()`` on an event loop of a thread of its own; ``default`` if it raises.

    aiokafka's connection errors are dropped for that thread only, so a probe of a
    broker that is down (or still starting) logs nothing, while every other thread
    logs as before. A thread of its own also lets a caller inside a running event
    loop probe synchronously.
    """

    def in_thread() -> T:
        quiet = _ThreadFilter(threading.get_ident())
        loggers = [logging.getLogger(n) for n in _AIOKAFKA_LOGGERS]
        for logger in loggers:
            logger.addFilter(quiet)
        try:
            return asyncio.run(_awaited(work))
        except Exception:
            return default
        finally:
            for logger in loggers:
                logger.removeFilter(quiet)

    with ThreadPoolExecutor(1, thread_name_prefix=name) as pool:
        return pool.submit(in_thread).result()


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


async def _metadata(bootstrap: str, timeout: float) -> str:
    """ "" if the cluster answers and its advertised brokers accept a connection."""
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        client_id="yujing-reach",
        request_timeout_ms=max(1000, int(timeout * 1000)),
    )
    try:
        await client.bootstrap()
        brokers = client.cluster.brokers()
        if not brokers:
            return "the cluster lists no broker"
        for b in brokers:
            if not _connects(b.host, b.port, min(2.0, timeout)):
                return f"it advertises {b.host}:{b.port}, which does not accept connections"
        return ""
    finally:
        with contextlib.suppress(Exception):
            await client.close()


def require_free_port(host: str, port: int, what: str) -> None:
    """Raise :class:`PortInUse` if ``host:port`` cannot be bound (someone listens there)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            raise PortInUse(host, port, what, err.strerror or str(err)) from None


class PortInUse(OneLineError):
    """A port this process must listen on is taken."""

    def __init__(self, host: str, port: int, what: str, why: str) -> None:
        super().__init__(f"cannot listen on {host}:{port} for {what}: {why}")


__all__ = [
    "PROBE_TIMEOUT_S",
    "BrokerUnreachable",
    "OneLineError",
    "PortInUse",
    "require_broker",
    "require_free_port",
    "servers",
]
