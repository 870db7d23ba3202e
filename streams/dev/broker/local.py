"""The local single-node Kafka broker of one home: install, start, stop, status.

Where this sits: development infrastructure, not in the event flow. No agent, table,
sink or schema of the pipeline imports this package and no event passes through it;
it only provides the Kafka broker that the pipeline (and its tests) talk to, through
``yujing broker install|start|stop|status`` and the ``kafka_bootstrap`` test fixture.

It runs Kafka without Docker: Apache Kafka's own jars from Maven Central
(:mod:`~streams.dev.broker.jars`) on a Java 17+ (:mod:`~streams.dev.broker.java`),
in KRaft mode, as a process detached from the caller
(:mod:`~streams.dev.broker.process`), with its files under ``<home>/broker/``
(:mod:`~streams.dev.broker.files`). :class:`LocalBroker` puts these together:

* ``start`` is idempotent: if this home's broker already runs it only waits until it
  answers (:mod:`~streams.dev.broker.probe`); a port held by another process is a
  one-line error naming the variable that moves it;
* ``stop`` stops only this home's broker, never a process it did not start;
* ``start(secure=True)`` (``yujing broker start --secure``) runs it with TLS, SCRAM
  users and ACLs (:mod:`~streams.dev.broker.secure`); a broker is formatted plain or
  secure once, and ``status`` and the start's own probe log in as ``admin`` on a
  secure one;
* every failure is a :class:`~streams.dev.broker.config.BrokerError` whose message
  says what to do, with the last lines of the broker's logs where they help.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from streams.core.shared.config import ConfigError
from streams.dev.broker.acls import Naming
from streams.dev.broker.config import BrokerConfig, BrokerError
from streams.dev.broker.files import BrokerFiles, file_lock
from streams.dev.broker.jars import install_jars
from streams.dev.broker.java import check_java, java_executable
from streams.dev.broker.probe import Login, broker_answers, port_in_use
from streams.dev.broker.process import BrokerProcess, is_alive
from streams.dev.broker.secure import SecureBroker, check_mode, record_mode, recorded_mode

__all__ = ["BrokerStatus", "LocalBroker"]


@dataclass(frozen=True)
class BrokerStatus:
    """What ``yujing broker status`` reports."""

    running: bool
    pid: int | None
    bootstrap: str
    answering: bool


class LocalBroker:
    """Install, start, stop and inspect the single-node KRaft broker of one home."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.files = files = BrokerFiles(config.home)
        self.process = BrokerProcess(files)
        self.secure = SecureBroker(config, files)
        # The paths callers and tests read, as attributes of the broker.
        self.dir = files.dir
        self.data_dir = files.data_dir
        self.logs_dir = files.logs_dir
        self.properties_path = files.properties_path
        self.log4j_path = files.log4j_path
        self.pid_path = files.pid_path
        self.cluster_id_path = files.cluster_id_path
        self.out_path = files.out_path
        self.server_log_path = files.server_log_path

    def __repr__(self) -> str:
        return f"LocalBroker(home={self.config.home}, bootstrap={self.config.bootstrap})"

    def install(self) -> Path:
        """Make sure Kafka's jars are fetched (once, shared); return their directory."""
        return install_jars()

    def start(self, timeout: float = 60, secure: bool = False, naming: Naming | None = None) -> str:
        """Start the broker unless ours already runs; return once it answers.

        Returns the bootstrap address ("127.0.0.1:<port>"). ``secure``: with TLS, SCRAM
        users and ACLs, those of ``naming`` (default: ``YUJING_TOPIC_PREFIX`` and
        ``YUJING_APP_ID``); once it answers, its ACLs match the plan and every user's
        credentials file is written (:attr:`secrets_dir`).
        """
        cfg = self.config
        if secure and naming is None:
            try:
                naming = Naming.from_env()
            except ConfigError as err:
                raise BrokerError(str(err)) from None
        self.dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self.files.lock_path):
            check_mode(self.files, secure)
            pid = self.process.owned_pid()
            if pid is not None:
                self._wait_answering(pid, None, timeout)
                self._secure_clients(naming)
                return cfg.bootstrap
            self.process.remove_pid_file()
            for port, role, var in (
                (cfg.port, "client", "YUJING_BROKER_PORT"),
                (cfg.controller_port, "controller", "YUJING_BROKER_CONTROLLER_PORT"),
            ):
                if port_in_use(port):
                    raise BrokerError(
                        f"port {port} ({role} port) on 127.0.0.1 is already in use by another "
                        f"process, not by the yujing broker of {cfg.home}: stop that process "
                        f"or choose another port with {var}"
                    )
            java = java_executable()
            check_java()
            libs = self.install()
            self.files.write_config_files(cfg, security=self.secure.prepare() if secure else None)
            if not self.files.is_formatted():
                scram = self.secure.scram_credentials() if secure else []
                self.process.format_storage(java, libs, self.files.cluster_id(), scram)
                record_mode(self.files, secure)
            proc = self.process.launch(java, libs, cfg.heap_mb)
            self.process.write_pid_file(proc.pid)
            self._wait_answering(proc.pid, proc, timeout)
            self._secure_clients(naming)
        return cfg.bootstrap

    @property
    def secrets_dir(self) -> Path:
        """Where a secure broker's users find their credentials: ``<home>/secrets``."""
        return self.secure.secrets_dir

    def is_secure(self) -> bool:
        """Was this broker set up with ``--secure``?"""
        return recorded_mode(self.files) == "secure"

    def _login(self) -> Login | None:
        """How the probe logs in: as ``admin`` on a secure broker, not at all on a plain one."""
        return self.secure.login("admin") if self.is_secure() else None

    def _secure_clients(self, naming: Naming | None) -> None:
        """On a secure broker, the ACLs of ``naming`` and every user's credentials file."""
        if naming is not None and self.is_secure():
            self.secure.apply_acls(naming)
            self.secure.write_secrets()

    def stop(self, timeout: float = 30) -> bool:
        """Stop our broker (SIGTERM, SIGKILL after ``timeout``); False if none ran."""
        if not self.dir.is_dir():
            return False
        with file_lock(self.files.lock_path):
            pid = self.process.owned_pid()
            if pid is None:
                self.process.remove_pid_file()  # stale, or naming a process that is not ours
                return False
            self.process.terminate(pid, timeout)
            self.process.remove_pid_file()
            return True

    def status(self) -> BrokerStatus:
        """Is this home's broker running, and does it answer?"""
        pid = self.process.owned_pid() if self.dir.is_dir() else None
        answering = pid is not None and broker_answers(
            self.config.bootstrap, timeout=3.0, login=self._login()
        )
        return BrokerStatus(
            running=pid is not None,
            pid=pid,
            bootstrap=self.config.bootstrap,
            answering=answering,
        )

    def _wait_answering(
        self, pid: int, proc: subprocess.Popen[bytes] | None, timeout: float
    ) -> None:
        """Wait until the broker answers; ``proc`` is set if this call started it."""
        bootstrap = self.config.bootstrap
        login = self._login()
        deadline = time.monotonic() + timeout
        while True:
            exit_code = proc.poll() if proc is not None else None
            if exit_code is not None or (proc is None and not is_alive(pid)):
                self.process.remove_pid_file()
                how = f"exited with code {exit_code}" if exit_code is not None else "exited"
                raise BrokerError(
                    f"the Kafka broker (pid {pid}) {how} before it answered on {bootstrap}\n"
                    + self.files.logs_tail()
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if broker_answers(bootstrap, timeout=min(5.0, max(1.0, remaining)), login=login):
                return
            time.sleep(0.5)
        if proc is not None:  # we started it and it is useless: do not leave it behind
            self.process.terminate(pid, 15)
            self.process.remove_pid_file()
            raise BrokerError(
                f"the Kafka broker did not answer on {bootstrap} within {timeout:.0f} s and "
                f"was stopped\n" + self.files.logs_tail()
            )
        raise BrokerError(
            f"the Kafka broker (pid {pid}) runs but did not answer on {bootstrap} within "
            f"{timeout:.0f} s; see {self.server_log_path}, or `yujing broker stop` and start again"
        )
