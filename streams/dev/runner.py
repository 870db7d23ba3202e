"""Starting and stopping yujing's own processes (worker, sinks) for the demo and tests.

Outside the event flow: process plumbing. Each child gets its own log file,
and readiness is judged by the process's HTTP endpoints, not by sleeping.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def kill(self) -> None:
        """``kill -9``: no shutdown hooks, no final commit."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> Child:
    """Run ``python -m streams.cli ARGS`` with ``env`` added to this environment."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", *args],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Child(name, proc, log_path)


def get_json(
    url: str, timeout: float = 2.0, headers: Mapping[str, str] | None = None
) -> tuple[int, Any]:
    """The status and JSON body of a GET (``headers``: e.g. a bearer token's)."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            return err.code, json.loads(body or b"null")
        except json.JSONDecodeError:
            return err.code, None


def wait_http(child: Child, url: str, timeout: float = 90.0) -> Any:
    """Poll ``url`` until it answers 200; fail early with the log if the child dies."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise RuntimeError(
                f"{child.name} exited with {child.proc.returncode} before {url} answered:\n"
                f"{child.log_tail()}"
            )
        try:
            status, body = get_json(url)
            if status == 200:
                return body
            last = f"HTTP {status}: {body}"
        except (OSError, json.JSONDecodeError) as err:
            last = str(err)
        time.sleep(0.3)
    raise TimeoutError(
        f"{child.name}: {url} not ready after {timeout:.0f}s ({last}):\n{child.log_tail()}"
    )
