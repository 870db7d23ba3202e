"""A local single-node Apache Kafka broker (KRaft mode) for development and tests.

Where this sits: infrastructure, not in the event flow. No agent, table, sink or
schema of the pipeline imports this module and no event passes through it; it only
provides the Kafka broker that the pipeline (and its tests) talk to, through
``yujing broker install|start|stop|status`` and the ``kafka_bootstrap`` test fixture.

It runs Kafka without Docker: Kafka's own jars are resolved from Maven Central with
``mvn`` (``pom.xml`` next to this file, pinned to :data:`KAFKA_VERSION`), and the
broker is started as a plain ``java`` process (Java 17 or newer), detached from the
calling process so that it outlives ``yujing broker start``.

Files:

* jars: ``$YUJING_KAFKA_LIBS`` if set, else ``~/.cache/yujing/kafka-<version>/libs``
  (shared by every home, so test homes do not download them again);
* everything else under ``<home>/broker/``: ``server.properties`` and
  ``log4j2.properties`` (rewritten on every start), ``data/`` (the Kafka log dirs,
  formatted on first start), ``logs/server.log`` (broker log, size-bounded),
  ``logs/broker.out`` (JVM stdout/stderr), ``broker.pid`` and ``cluster.id``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from streams.core.shared.config import ConfigError
from streams.runtime.settings import BrokerSettings, HostSettings

__all__ = [
    "KAFKA_VERSION",
    "BrokerConfig",
    "BrokerError",
    "BrokerStatus",
    "LocalBroker",
    "broker_answers",
    "check_java",
    "find_free_port",
    "java_executable",
    "kafka_libs_dir",
]

#: Kafka release the broker runs; keep in step with ``kafka.version`` in pom.xml.
KAFKA_VERSION = "4.1.1"
SCALA_BINARY_VERSION = "2.13"

_INSTALLED_MARKER = ".yujing-installed"
_TAIL_LINES = 30


class BrokerError(RuntimeError):
    """A failure of the local broker the user can act on; the message says how."""


# --------------------------------------------------------------------------- config


def _settings() -> BrokerSettings:
    """``YUJING_HOME`` and ``YUJING_BROKER_*``; a bad value is a :class:`BrokerError`."""
    try:
        return BrokerSettings.from_env()
    except ConfigError as err:
        raise BrokerError(str(err)) from None


def _default_home() -> Path:
    return _settings().home.resolve()


@dataclass(frozen=True)
class BrokerConfig:
    """Where the local broker keeps its files and which loopback ports it listens on."""

    home: Path = field(default_factory=_default_home)
    port: int = 9092
    controller_port: int = 9093
    heap_mb: int = 512

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).expanduser().resolve())
        for name in ("port", "controller_port"):
            value = getattr(self, name)
            if not 0 < value < 65536:
                raise BrokerError(f"{name} must be between 1 and 65535, got {value}")
        if self.heap_mb < 128:
            raise BrokerError(f"heap_mb must be at least 128, got {self.heap_mb}")
        if self.port == self.controller_port:
            raise BrokerError(
                f"the broker port and the controller port must differ (both are {self.port})"
            )

    @classmethod
    def from_env(cls) -> BrokerConfig:
        """Read ``YUJING_HOME``, ``YUJING_BROKER_PORT``, ``YUJING_BROKER_CONTROLLER_PORT``
        and ``YUJING_BROKER_HEAP_MB`` (streams.runtime.settings.BrokerSettings); unset
        variables keep the defaults."""
        settings = _settings()
        return cls(
            home=settings.home,
            port=settings.broker_port,
            controller_port=settings.broker_controller_port,
            heap_mb=settings.broker_heap_mb,
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str
    answering: bool


# --------------------------------------------------------------------------- java


def java_executable() -> str:
    """The ``java`` to run: ``$JAVA_HOME/bin/java`` if JAVA_HOME is set, else from PATH."""
    java_home = HostSettings.from_env().java_home
    if java_home is not None:
        candidate = Path(java_home) / "bin" / ("java.exe" if os.name == "nt" else "java")
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            raise BrokerError(
                f"JAVA_HOME is {java_home} but there is no java at {candidate}: "
                "point JAVA_HOME at a Java 17+ installation or unset it"
            )
        return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise BrokerError(
            "java not found on PATH: install OpenJDK 17 "
            "(e.g. apt-get install openjdk-17-jre-headless)"
        )
    return found


def _java_major(version: str) -> int:
    match = re.match(r"(\d+)(?:\.(\d+))?", version)
    if match is None:
        return 0
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_292" is Java 8
        return int(match.group(2))
    return major


def check_java(min_major: int = 17) -> str:
    """Return the version of the java :func:`java_executable` finds, e.g. ``"17.0.15"``.

    Raises :class:`BrokerError` if there is none or it is older than ``min_major``.
    """
    java = java_executable()
    try:
        proc = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BrokerError(f"could not run `{java} -version`: {exc}") from exc
    output = (proc.stderr or "") + (proc.stdout or "")
    match = re.search(r'version "([^"]+)"', output)
    if match is None:
        raise BrokerError(
            f"could not read the Java version from `{java} -version`: {output.strip()[:200]!r}"
        )
    version = match.group(1)
    if _java_major(version) < min_major:
        raise BrokerError(
            f"Java {min_major} or newer is needed to run Kafka 4.x; found {version} ({java})"
        )
    return version


# --------------------------------------------------------------------------- helpers


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port left in TIME_WAIT by a stopped broker counts as free,
        # as it does for Kafka itself; a listening socket still makes bind fail.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def kafka_libs_dir() -> Path:
    """Where the Kafka jars live: ``$YUJING_KAFKA_LIBS``, else the per-user cache."""
    override = _settings().kafka_libs
    if override is not None:
        return override.expanduser().resolve()
    cache = HostSettings.from_env().cache_home
    return (cache / "yujing" / f"kafka-{KAFKA_VERSION}" / "libs").resolve()


def _resource_text(name: str) -> str:
    return resources.files(__package__ or "streams.dev.broker").joinpath(name).read_text("utf-8")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock between yujing processes (e.g. two CLI calls)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _tail(path: Path, lines: int = _TAIL_LINES) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _output_tail(text: str, lines: int = _TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- processes


def _cmdline(pid: int) -> list[str]:
    """The argv of a process, or [] if it is gone (zombies have an empty cmdline)."""
    proc_file = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self/cmdline").exists():
        try:
            raw = proc_file.read_bytes()
        except OSError:
            return []
        return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
    try:  # no /proc (macOS): ask ps
        out = subprocess.run(
            ["ps", "-ww", "-o", "command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return out.split()


def _linux_pids() -> list[int]:
    """All pids from /proc; [] where there is no /proc."""
    try:
        return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return []


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _reap(pid: int) -> None:
    """Collect the exit status if the broker is our own child (tests, one process)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        _reap(pid)
        if not _is_alive(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


# --------------------------------------------------------------------------- probing

_AIOKAFKA_LOGGERS = ("aiokafka", "aiokafka.conn", "aiokafka.cluster")


class _ThreadFilter(logging.Filter):
    """Drop the connection errors of one probe thread, and nothing else."""

    def __init__(self, thread_id: int) -> None:
        super().__init__()
        self.thread_id = thread_id

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread_id


async def _describe_cluster(bootstrap: str, timeout: float) -> bool:
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        client_id="yujing-broker-probe",
        request_timeout_ms=max(1000, int(timeout * 1000)),
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return bool(client.cluster.brokers())
    finally:
        with contextlib.suppress(Exception):
            await client.close()


def _probe_in_this_thread(bootstrap: str, timeout: float) -> bool:
    quiet = _ThreadFilter(threading.get_ident())
    loggers = [logging.getLogger(name) for name in _AIOKAFKA_LOGGERS]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        return asyncio.run(_describe_cluster(bootstrap, timeout))
    except Exception:
        return False
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


def broker_answers(bootstrap: str, timeout: float = 5.0) -> bool:
    """True if a Kafka broker at ``bootstrap`` ("host:port") answers a metadata
    request listing at least one broker; a bare TCP connect is not enough."""
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except (OSError, ValueError):
        return False
    # A thread of its own: works even when called from inside a running event loop.
    with ThreadPoolExecutor(1, thread_name_prefix="yujing-broker-probe") as pool:
        return pool.submit(_probe_in_this_thread, bootstrap, timeout).result()


# --------------------------------------------------------------------------- broker


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


class LocalBroker:
    """Install, start, stop and inspect the single-node KRaft broker of one home."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.dir = config.home / "broker"
        self.data_dir = self.dir / "data"
        self.logs_dir = self.dir / "logs"
        self.properties_path = self.dir / "server.properties"
        self.log4j_path = self.dir / "log4j2.properties"
        self.pid_path = self.dir / "broker.pid"
        self.cluster_id_path = self.dir / "cluster.id"
        self.out_path = self.logs_dir / "broker.out"
        self.server_log_path = self.logs_dir / "server.log"
        self._lock_path = self.dir / "broker.lock"

    def __repr__(self) -> str:
        return f"LocalBroker(home={self.config.home}, bootstrap={self.config.bootstrap})"

    # ---------------------------------------------------------------- install

    def install(self) -> Path:
        """Make sure Kafka's jars are in :func:`kafka_libs_dir`; return that directory.

        Runs ``mvn dependency:copy-dependencies`` once; later calls only check the
        marker file written after a successful copy.
        """
        libs = kafka_libs_dir()
        pom = _resource_text("pom.xml")
        digest = hashlib.sha256(pom.encode()).hexdigest()[:16]
        if self._libs_ready(libs, digest):
            return libs
        with _file_lock(libs.parent / f".{libs.name}.lock"):
            if self._libs_ready(libs, digest):  # another process finished meanwhile
                return libs
            mvn = shutil.which("mvn")
            if mvn is None:
                raise BrokerError(
                    f"mvn (Apache Maven) not found on PATH: it is needed once to fetch the "
                    f"Kafka {KAFKA_VERSION} jars from Maven Central (e.g. apt-get install "
                    f"maven), or set YUJING_KAFKA_LIBS to a directory holding Kafka's jars"
                )
            check_java()
            self._check_replaceable(libs)
            work = Path(tempfile.mkdtemp(prefix=f".{libs.name}-install-", dir=libs.parent))
            try:
                (work / "pom.xml").write_text(pom, "utf-8")
                out = work / "libs"
                cmd = [
                    mvn,
                    "-B",
                    "-q",
                    "-Dstyle.color=never",
                    "-f",
                    str(work / "pom.xml"),
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={out}",
                    "-DincludeScope=runtime",
                ]
                try:
                    proc = subprocess.run(
                        cmd, cwd=work, capture_output=True, text=True, timeout=1800, check=False
                    )
                except subprocess.TimeoutExpired as exc:
                    raise BrokerError(
                        f"mvn did not finish fetching the Kafka {KAFKA_VERSION} jars within "
                        f"{exc.timeout:.0f} s; check the network access to Maven Central"
                    ) from exc
                except OSError as exc:
                    raise BrokerError(f"could not run mvn ({mvn}): {exc}") from exc
                if proc.returncode != 0:
                    raise BrokerError(
                        f"mvn failed (exit {proc.returncode}) fetching the Kafka "
                        f"{KAFKA_VERSION} jars from Maven Central; last lines of its output:\n"
                        + _output_tail(proc.stdout + "\n" + proc.stderr)
                    )
                if not list(out.glob(f"kafka_{SCALA_BINARY_VERSION}-*.jar")):
                    raise BrokerError(f"mvn succeeded but left no Kafka jar in {out}")
                (out / _INSTALLED_MARKER).write_text(f"{digest}\n", "utf-8")
                if libs.exists():
                    stale = work / "stale"
                    libs.rename(stale)
                out.rename(libs)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return libs

    @staticmethod
    def _libs_ready(libs: Path, digest: str) -> bool:
        marker = libs / _INSTALLED_MARKER
        if marker.is_file():
            return marker.read_text("utf-8").strip() == digest
        # Not ours, but a directory of Kafka's jars (e.g. a Kafka distribution's libs/
        # named by YUJING_KAFKA_LIBS): use it as it is.
        return any(libs.glob(f"kafka_{SCALA_BINARY_VERSION}-*.jar"))

    @staticmethod
    def _check_replaceable(libs: Path) -> None:
        if not libs.exists():
            return
        if not libs.is_dir():
            raise BrokerError(
                f"{libs} exists and is not a directory; remove it or set "
                "YUJING_KAFKA_LIBS elsewhere"
            )
        ours = (libs / _INSTALLED_MARKER).is_file()
        if not ours and any(libs.iterdir()):
            raise BrokerError(
                f"{libs} is not empty and holds no Kafka jars; empty it or point "
                "YUJING_KAFKA_LIBS at another directory"
            )

    # ---------------------------------------------------------------- start

    def start(self, timeout: float = 60) -> str:
        """Start the broker unless ours already runs; return once it answers.

        Returns the bootstrap address ("127.0.0.1:<port>").
        """
        cfg = self.config
        self.dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(self._lock_path):
            pid = self._owned_pid()
            if pid is not None:
                self._wait_answering(pid, None, timeout)
                return cfg.bootstrap
            self._remove_pid_file()
            for port, role, var in (
                (cfg.port, "client", "YUJING_BROKER_PORT"),
                (cfg.controller_port, "controller", "YUJING_BROKER_CONTROLLER_PORT"),
            ):
                if _port_in_use(port):
                    raise BrokerError(
                        f"port {port} ({role} port) on 127.0.0.1 is already in use by another "
                        f"process, not by the yujing broker of {cfg.home}: stop that process "
                        f"or choose another port with {var}"
                    )
            java = java_executable()
            check_java()
            libs = self.install()
            self._write_config_files()
            self._format_storage(java, libs)
            proc = self._launch(java, libs)
            self._write_pid_file(proc.pid)
            self._wait_answering(proc.pid, proc, timeout)
        return cfg.bootstrap

    def _java_cmd(self, java: str, libs: Path, *jvm_options: str) -> list[str]:
        return [
            java,
            *jvm_options,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_path}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            str(libs / "*"),
        ]

    def _write_config_files(self) -> None:
        cfg = self.config
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        template = string.Template(_resource_text("server.properties.template"))
        self.properties_path.write_text(
            template.substitute(
                kafka_version=KAFKA_VERSION,
                port=cfg.port,
                controller_port=cfg.controller_port,
                data_dir=self.data_dir,
            ),
            "utf-8",
        )
        self.log4j_path.write_text(_resource_text("log4j2.properties"), "utf-8")

    def _cluster_id(self) -> str:
        if self.cluster_id_path.is_file():
            existing = self.cluster_id_path.read_text("utf-8").strip()
            if existing and not existing.startswith("-"):
                return existing
        cluster_id = new_cluster_id()
        self.cluster_id_path.write_text(cluster_id + "\n", "utf-8")
        return cluster_id

    def _format_storage(self, java: str, libs: Path) -> None:
        if (self.data_dir / "meta.properties").is_file():
            return
        cmd = [
            *self._java_cmd(java, libs),
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            "-t",
            self._cluster_id(),
            "-c",
            str(self.properties_path),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BrokerError(
                f"could not format the Kafka storage in {self.data_dir}: {exc}"
            ) from exc
        if proc.returncode != 0:
            raise BrokerError(
                f"formatting the Kafka storage in {self.data_dir} failed "
                f"(exit {proc.returncode}):\n" + _output_tail(proc.stdout + "\n" + proc.stderr)
            )

    def _launch(self, java: str, libs: Path) -> subprocess.Popen[bytes]:
        heap = self.config.heap_mb
        cmd = [
            *self._java_cmd(
                java,
                libs,
                f"-Xms{min(256, heap)}m",
                f"-Xmx{heap}m",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-XX:+ExitOnOutOfMemoryError",
            ),
            "kafka.Kafka",
            str(self.properties_path),
        ]
        with open(self.out_path, "ab") as out:
            out.write(
                f"\n=== yujing broker start {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n".encode()
            )
            out.flush()
            try:
                return subprocess.Popen(
                    cmd,
                    cwd=self.dir,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                raise BrokerError(f"could not start java ({java}): {exc}") from exc

    def _logs_tail(self) -> str:
        parts = []
        for path in (self.server_log_path, self.out_path):
            tail = _tail(path)
            if tail.strip():
                parts.append(f"--- {path} (last lines) ---\n{tail}")
        return "\n".join(parts) or f"(no log output in {self.logs_dir})"

    def _wait_answering(
        self, pid: int, proc: subprocess.Popen[bytes] | None, timeout: float
    ) -> None:
        bootstrap = self.config.bootstrap
        deadline = time.monotonic() + timeout
        while True:
            exit_code = proc.poll() if proc is not None else None
            if exit_code is not None or (proc is None and not _is_alive(pid)):
                self._remove_pid_file()
                how = f"exited with code {exit_code}" if exit_code is not None else "exited"
                raise BrokerError(
                    f"the Kafka broker (pid {pid}) {how} before it answered on {bootstrap}\n"
                    + self._logs_tail()
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if broker_answers(bootstrap, timeout=min(5.0, max(1.0, remaining))):
                return
            time.sleep(0.5)
        if proc is not None:  # we started it and it is useless: do not leave it behind
            self._terminate(pid, 15)
            self._remove_pid_file()
            raise BrokerError(
                f"the Kafka broker did not answer on {bootstrap} within {timeout:.0f} s and "
                f"was stopped\n" + self._logs_tail()
            )
        raise BrokerError(
            f"the Kafka broker (pid {pid}) runs but did not answer on {bootstrap} within "
            f"{timeout:.0f} s; see {self.server_log_path}, or `yujing broker stop` and start again"
        )

    # ---------------------------------------------------------------- stop / status

    def stop(self, timeout: float = 30) -> bool:
        """Stop our broker (SIGTERM, SIGKILL after ``timeout``); False if none ran."""
        if not self.dir.is_dir():
            return False
        with _file_lock(self._lock_path):
            pid = self._owned_pid()
            if pid is None:
                self._remove_pid_file()  # stale, or naming a process that is not ours
                return False
            self._terminate(pid, timeout)
            self._remove_pid_file()
            return True

    def _terminate(self, pid: int, timeout: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if _wait_exit(pid, timeout):
            return
        if self._is_ours(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not _wait_exit(pid, 10):
            raise BrokerError(f"the Kafka broker (pid {pid}) did not exit, even after SIGKILL")

    def status(self) -> BrokerStatus:
        pid = self._owned_pid() if self.dir.is_dir() else None
        answering = pid is not None and broker_answers(self.config.bootstrap, timeout=3.0)
        return BrokerStatus(
            running=pid is not None,
            pid=pid,
            bootstrap=self.config.bootstrap,
            answering=answering,
        )

    # ---------------------------------------------------------------- pid bookkeeping

    def _is_ours(self, pid: int) -> bool:
        argv = _cmdline(pid)
        return "kafka.Kafka" in argv and str(self.properties_path) in argv

    def _owned_pid(self) -> int | None:
        """The pid of this home's running broker, or None.

        Only a live process whose command line runs ``kafka.Kafka`` with this home's
        ``server.properties`` counts: a recycled pid never does.
        """
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid > 0 and _is_alive(pid) and self._is_ours(pid):
            return pid
        # The pid file is gone or stale but our broker may still run (the file was
        # deleted by hand, or a crash between launch and writing it): adopt it.
        orphans = [p for p in _linux_pids() if p != pid and self._is_ours(p) and _is_alive(p)]
        if len(orphans) == 1:
            self._write_pid_file(orphans[0])
            return orphans[0]
        return None

    def _write_pid_file(self, pid: int) -> None:
        tmp = self.pid_path.with_suffix(".pid.tmp")
        tmp.write_text(f"{pid}\n")
        tmp.replace(self.pid_path)

    def _remove_pid_file(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.pid_path.unlink()
