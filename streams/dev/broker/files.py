"""The local Kafka broker's files under ``<home>/broker/``, and its cluster id.

Where this sits: development infrastructure, not in the event flow (the local
KRaft broker started from Apache Kafka's own jars from Maven Central).

Layout of ``<home>/broker/`` (:class:`BrokerFiles`); each node of a local cluster
has the same layout in ``<home>/cluster/node-<i>/`` (:mod:`~streams.dev.broker.cluster`):

* ``server.properties`` and ``log4j2.properties``: rewritten on every start from the
  templates shipped next to this module, so a changed port takes effect;
* ``data/``: the Kafka log dirs, formatted on the first start with ``cluster.id``;
* ``logs/server.log`` (broker log, size-bounded) and ``logs/broker.out`` (the JVM's
  stdout and stderr), whose last lines go into the errors of a failed start;
* ``broker.pid`` (see :mod:`streams.dev.broker.process`) and ``broker.lock``, the
  advisory lock that keeps two ``yujing broker`` commands from racing.

A KRaft cluster id never starts with ``-`` (:func:`new_cluster_id`).
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import string
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path

from streams.dev.broker.config import KAFKA_VERSION, BrokerConfig

__all__ = [
    "BrokerFiles",
    "file_lock",
    "kept_cluster_id",
    "new_cluster_id",
    "output_tail",
    "plain_security",
    "resource_text",
    "write_private",
]

TAIL_LINES = 30


def new_cluster_id(token: bytes | None = None) -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding.

    An id whose first character is ``-`` is drawn again, as Kafka's own
    ``Uuid.randomUuid()`` does: the storage tool's argument parser would read such an
    id as an option (``argument --cluster-id/-t: expected one argument``), which made
    roughly one first start in 64 fail. ``token`` fixes the first draw for tests.

    >>> new_cluster_id(bytes(16))
    'AAAAAAAAAAAAAAAAAAAAAA'
    >>> new_cluster_id(b"\\xfb" + bytes(15)).startswith("-")
    False
    """
    while True:
        raw = token if token is not None else secrets.token_bytes(16)
        token = None
        cluster_id = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def resource_text(name: str) -> str:
    """A file shipped in this package (``pom.xml``, the properties templates)."""
    return resources.files(__package__ or "streams.dev.broker").joinpath(name).read_text("utf-8")


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock between yujing processes (e.g. two CLI calls)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (0600) from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)  # a file that existed keeps its mode otherwise
        handle.write(text)


def output_tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a command's output, for an error message."""
    return "\n".join(text.strip().splitlines()[-lines:])


def _file_tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def kept_cluster_id(path: Path) -> str:
    """The id kept in ``path``, or a new one written there.

    An id left by an older version that starts with ``-`` is drawn again: the
    storage tool could not format with it.
    """
    if path.is_file():
        existing = path.read_text("utf-8").strip()
        if existing and not existing.startswith("-"):
            return existing
    cluster_id = new_cluster_id()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cluster_id + "\n", "utf-8")
    return cluster_id


def plain_security(config: BrokerConfig) -> dict[str, str]:
    """The template's listener parts for a broker without security: PLAINTEXT for
    clients and for the controller, topics created on first use."""
    return {
        "listeners": (
            f"listeners=PLAINTEXT://127.0.0.1:{config.port},"
            f"CONTROLLER://127.0.0.1:{config.controller_port}\n"
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{config.port}\n"
            "controller.listener.names=CONTROLLER\n"
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
            "inter.broker.listener.name=PLAINTEXT"
        ),
        "auto_create_topics": "true",
        "security": "",
    }


class BrokerFiles:
    """The paths of one broker (or one node of a cluster), and the files written
    before it starts: ``<home>/<name>/``, by default ``<home>/broker/``."""

    def __init__(self, home: Path, name: str = "broker") -> None:
        self.dir = home / name
        self.data_dir = self.dir / "data"
        self.logs_dir = self.dir / "logs"
        self.properties_path = self.dir / "server.properties"
        self.log4j_path = self.dir / "log4j2.properties"
        self.pid_path = self.dir / "broker.pid"
        self.cluster_id_path = self.dir / "cluster.id"
        self.lock_path = self.dir / "broker.lock"
        self.out_path = self.logs_dir / "broker.out"
        self.server_log_path = self.logs_dir / "server.log"

    def __repr__(self) -> str:
        return f"BrokerFiles({self.dir})"

    def write_config_files(
        self,
        config: BrokerConfig,
        node_id: int = 1,
        voters: str = "",
        replicas: int = 1,
        security: Mapping[str, str] | None = None,
    ) -> None:
        """Write ``server.properties`` (ports, data dir) and ``log4j2.properties``.

        A single broker is node 1 and the only voter of its quorum, with one replica
        of everything. A node of a cluster gets its id, every ``voters`` of the
        quorum (``id@host:port,...``) and ``replicas`` replicas of every topic, of
        which ``min(2, replicas)`` must be in sync to take a write acked by all.
        ``security`` replaces the plain listeners (:func:`plain_security`): the
        ``listeners``, ``auto_create_topics`` and ``security`` parts of the template,
        as :mod:`~streams.dev.broker.secure` renders them. The file is its owner's
        only (0600): a secure broker's holds its own password.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        template = string.Template(resource_text("server.properties.template"))
        write_private(
            self.properties_path,
            template.substitute(
                kafka_version=KAFKA_VERSION,
                node_id=node_id,
                voters=voters or f"{node_id}@127.0.0.1:{config.controller_port}",
                port=config.port,
                controller_port=config.controller_port,
                data_dir=self.data_dir,
                replication_factor=replicas,
                min_insync_replicas=min(2, replicas),
                **(security if security is not None else plain_security(config)),
            ),
        )
        self.log4j_path.write_text(resource_text("log4j2.properties"), "utf-8")

    def is_formatted(self) -> bool:
        """Has the storage tool formatted ``data/`` already?"""
        return (self.data_dir / "meta.properties").is_file()

    def cluster_id(self) -> str:
        """The id in ``cluster.id``, or a new one written there (:func:`kept_cluster_id`)."""
        return kept_cluster_id(self.cluster_id_path)

    def logs_tail(self) -> str:
        """The last lines of ``server.log`` and ``broker.out``, for a failed start."""
        parts = []
        for path in (self.server_log_path, self.out_path):
            tail = _file_tail(path)
            if tail.strip():
                parts.append(f"--- {path} (last lines) ---\n{tail}")
        return "\n".join(parts) or f"(no log output in {self.logs_dir})"
