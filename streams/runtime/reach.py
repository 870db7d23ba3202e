"""Is the broker there? One quick probe before a tool talks to Kafka.

Outside the event flow: every command that reads or writes topics (worker,
replay, tail, simulate, demo, bench) asks first, so an unreachable broker is one
line within seconds ("broker not reachable at HOST:PORT"), never a client that
retries for half a minute and then dies with a traceback.

The probe connects to each bootstrap server, asks for the cluster's metadata,
and then connects to every broker the cluster advertises: a broker whose
advertised listener cannot be reached from here (a container's internal name,
say) answers the bootstrap but fails every produce and fetch afterwards.

It connects as every client does (:class:`~streams.runtime.kafka_security.KafkaSecurity`),
so a secured broker that refuses this client is one line too, saying why
(:class:`BrokerRefused`: a wrong user name or password, a mechanism the broker does
not offer, a certificate not trusted, a client certificate refused, a listener that
speaks TLS or not), not a client that retries until it times out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from streams.runtime.kafka_security import PLAINTEXT, KafkaSecurity

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


class BrokerRefused(OneLineError):
    """A broker answers, but not to this client: its login or its TLS is refused."""

    exit_code = 3

    def __init__(self, bootstrap: str, why: str) -> None:
        self.bootstrap = bootstrap
        super().__init__(f"broker at {bootstrap} refused this client: {why}")


def require_broker(
    bootstrap: str, timeout: float = PROBE_TIMEOUT_S, *, security: KafkaSecurity = PLAINTEXT
) -> None:
    """Return if a Kafka broker answers at ``bootstrap`` to a client connecting with
    ``security``, else raise :class:`BrokerUnreachable` or :class:`BrokerRefused`.

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
    why, refused = run_quietly(
        lambda: asyncio.wait_for(_metadata(answering, left, security), left),
        ("no Kafka metadata answer", False),
        "yujing-reach",
    )
    if refused:
        raise BrokerRefused(bootstrap, why)
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


async def _metadata(bootstrap: str, timeout: float, security: KafkaSecurity) -> tuple[str, bool]:
    """("", False) if the cluster answers and its advertised brokers accept a connection;
    else why not, and whether the broker refused this client (:func:`_refused`)."""
    from aiokafka.client import AIOKafkaClient
    from aiokafka.errors import KafkaConnectionError

    request_timeout_ms = max(1000, int(timeout * 1000))
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        client_id="yujing-reach",
        request_timeout_ms=request_timeout_ms,
        **security.aiokafka(),
    )
    try:
        try:
            await client.bootstrap()
        except KafkaConnectionError:  # it does not say why: one connection of our own does
            host, port = servers(bootstrap)[0]
            why = await _refused(host, port, security, request_timeout_ms)
            return (why, True) if why else ("no Kafka metadata answer", False)
        brokers = client.cluster.brokers()
        if not brokers:
            return "the cluster lists no broker", False
        for b in brokers:
            if not _connects(b.host, b.port, min(2.0, timeout)):
                return f"it advertises {b.host}:{b.port}, which does not accept connections", False
        return "", False
    finally:
        with contextlib.suppress(Exception):
            await client.close()


async def _refused(host: str, port: int, security: KafkaSecurity, timeout_ms: int) -> str:
    """Why one connection of ``security`` to ``host:port`` is refused ("" if it is not)."""
    from aiokafka.conn import create_conn
    from aiokafka.protocol.metadata import MetadataRequest

    try:
        conn = await create_conn(
            host,
            port,
            client_id="yujing-reach",
            request_timeout_ms=timeout_ms,
            **security.aiokafka(),
        )
        try:
            await conn.send(MetadataRequest([]))
        finally:
            conn.close()
    except Exception as err:
        return _refusal(err, security)
    return ""


#: Error class names (aiokafka's, kafka-python's) of a login the broker refused.
_LOGIN_REFUSED = frozenset(
    ("SaslAuthenticationFailed", "SaslAuthenticationFailedError", "AuthenticationFailedError")
)


def _chain(err: BaseException) -> list[BaseException]:
    """The error and the errors it came from."""
    found: list[BaseException] = []
    e: BaseException | None = err
    while e is not None and e not in found:
        found.append(e)
        e = e.__cause__ or e.__context__
    return found


def login_refusal(err: BaseException, security: KafkaSecurity) -> str:
    """Why the broker refused the SASL login of a client connecting with ``security``, read
    from the error the client raised (aiokafka or kafka-python); "" if it is no such error."""
    for e in _chain(err):
        name = type(e).__name__
        if name in _LOGIN_REFUSED:
            return (
                f"the login of {security.username!r} ({security.mechanism}) failed: a wrong "
                "YUJING_KAFKA_SASL_USERNAME or YUJING_KAFKA_SASL_PASSWORD?"
            )
        if name == "UnsupportedSaslMechanismError":
            return f"it does not offer {security.mechanism} (YUJING_KAFKA_SASL_MECHANISM)"
    return ""


def _refusal(err: BaseException, security: KafkaSecurity) -> str:
    """Why the probe's own connection failed: its login, its TLS, or a listener that
    speaks another protocol (it closes at once); "" if none of these."""
    protocol = f"YUJING_KAFKA_SECURITY_PROTOCOL={security.protocol}"
    chain = _chain(err)
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"its certificate is not trusted: {e.verify_message} (YUJING_KAFKA_SSL_CAFILE)"
        if isinstance(e, ssl.SSLError) and "CERTIFICATE" in str(e.reason or ""):
            return (
                f"it does not accept this client's certificate ({e.reason}): check "
                "YUJING_KAFKA_SSL_CERTFILE and YUJING_KAFKA_SSL_KEYFILE"
            )
        if isinstance(e, ssl.SSLError):
            return f"the TLS handshake failed ({e.reason or e}): does it speak {protocol}?"
    if why := login_refusal(err, security):
        return why
    if any(isinstance(e, ConnectionError | EOFError) for e in chain) or "closed" in str(err):
        return f"it closed the connection at once: does it speak {protocol}?"
    return ""


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
    "BrokerRefused",
    "BrokerUnreachable",
    "OneLineError",
    "PortInUse",
    "login_refusal",
    "require_broker",
    "require_free_port",
    "servers",
]
