"""The local Kafka broker's process: its storage formatted, launched detached, found by
pid file, stopped.

Where this sits: development infrastructure, not in the event flow (the local
KRaft broker started from Apache Kafka's own jars from Maven Central). Each node of a
local cluster is one such process, with files of its own.

The broker runs as a plain ``java ... kafka.Kafka <home>/broker/server.properties``
in a session of its own, so it outlives ``yujing broker start``. Its pid is kept in
``broker.pid``, but a pid alone proves nothing (pids are recycled): a process is this
home's broker only if it is alive and its command line runs ``kafka.Kafka`` with this
home's ``server.properties``. That rule is why ``stop`` never kills a process it did
not start, and why a broker whose pid file was lost is adopted again rather than
started twice. Command lines come from ``/proc``, or from ``ps`` where there is none.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from streams.dev.broker.config import BrokerError
from streams.dev.broker.files import BrokerFiles, output_tail, write_private
from streams.dev.broker.java import kafka_command

__all__ = ["MAIN_CLASS", "BrokerProcess", "is_alive", "wait_exit"]

#: The broker's main class, as it appears on its command line.
MAIN_CLASS = "kafka.Kafka"
_FORMAT_TIMEOUT_S = 180


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


def _argfile_line(arg: str) -> str:
    """One argument of a Java argument file (``java @file``): quoted, ``\\`` and ``"`` escaped."""
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"\n'


def _linux_pids() -> list[int]:
    """All pids from /proc; [] where there is no /proc."""
    try:
        return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return []


def is_alive(pid: int) -> bool:
    """True if ``pid`` is a running process (a zombie is not)."""
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


def wait_exit(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit; True if it did."""
    deadline = time.monotonic() + timeout
    while True:
        _reap(pid)
        if not is_alive(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


class BrokerProcess:
    """The broker process of one home: its pid file, ownership, launch and stop."""

    def __init__(self, files: BrokerFiles) -> None:
        self.files = files

    def is_ours(self, pid: int) -> bool:
        """Does ``pid`` run ``kafka.Kafka`` with this home's ``server.properties``?"""
        argv = _cmdline(pid)
        return MAIN_CLASS in argv and str(self.files.properties_path) in argv

    def owned_pid(self) -> int | None:
        """The pid of this home's running broker, or None.

        Only a live process whose command line runs ``kafka.Kafka`` with this home's
        ``server.properties`` counts: a recycled pid never does.
        """
        try:
            pid = int(self.files.pid_path.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid > 0 and is_alive(pid) and self.is_ours(pid):
            return pid
        # The pid file is gone or stale but our broker may still run (the file was
        # deleted by hand, or a crash between launch and writing it): adopt it.
        orphans = [p for p in _linux_pids() if p != pid and self.is_ours(p) and is_alive(p)]
        if len(orphans) == 1:
            self.write_pid_file(orphans[0])
            return orphans[0]
        return None

    def write_pid_file(self, pid: int) -> None:
        """Write ``broker.pid`` atomically (a reader never sees half a number)."""
        tmp = self.files.pid_path.with_suffix(".pid.tmp")
        tmp.write_text(f"{pid}\n")
        tmp.replace(self.files.pid_path)

    def remove_pid_file(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.files.pid_path.unlink()

    def format_storage(
        self, java: str, libs: Path, cluster_id: str, scram: Sequence[str] = ()
    ) -> None:
        """Format ``data/`` with ``cluster_id`` unless it is formatted (KRaft needs it).

        Every node of a cluster is formatted with the same id; with the voters named
        in ``server.properties`` (a static quorum) nothing else is needed. ``scram``:
        SCRAM credentials to create with it (``--add-scram``), which hold passwords: the
        storage tool then reads its arguments from a Java argument file of mode 0600,
        removed afterwards, rather than from a command line anyone may list.
        """
        files = self.files
        if files.is_formatted():
            return
        args = [
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            "-t",
            cluster_id,
            "-c",
            str(files.properties_path),
        ]
        for credential in scram:
            args += ["--add-scram", credential]
        argfile = files.dir / "format.args"
        if scram:
            write_private(argfile, "".join(_argfile_line(arg) for arg in args))
            args = [f"@{argfile}"]
        try:
            proc = subprocess.run(
                [*kafka_command(java, libs, files), *args],
                capture_output=True,
                text=True,
                timeout=_FORMAT_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BrokerError(
                f"could not format the Kafka storage in {files.data_dir}: {exc}"
            ) from exc
        finally:
            argfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise BrokerError(
                f"formatting the Kafka storage in {files.data_dir} failed "
                f"(exit {proc.returncode}):\n" + output_tail(proc.stdout + "\n" + proc.stderr)
            )

    def launch(self, java: str, libs: Path, heap_mb: int) -> subprocess.Popen[bytes]:
        """Start ``kafka.Kafka`` detached, its output appended to ``logs/broker.out``."""
        files = self.files
        cmd = [
            *kafka_command(
                java,
                libs,
                files,
                f"-Xms{min(256, heap_mb)}m",
                f"-Xmx{heap_mb}m",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-XX:+ExitOnOutOfMemoryError",
            ),
            MAIN_CLASS,
            str(files.properties_path),
        ]
        with open(files.out_path, "ab") as out:
            out.write(
                f"\n=== yujing broker start {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n".encode()
            )
            out.flush()
            try:
                return subprocess.Popen(
                    cmd,
                    cwd=files.dir,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                raise BrokerError(f"could not start java ({java}): {exc}") from exc

    def terminate(self, pid: int, timeout: float) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` s if the process is still ours."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if wait_exit(pid, timeout):
            return
        if self.is_ours(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not wait_exit(pid, 10):
            raise BrokerError(f"the Kafka broker (pid {pid}) did not exit, even after SIGKILL")
