"""Helpers shared by integration tests: a restartable stack of real yujing processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.runner import Child, get_json, spawn, wait_http


@dataclass
class Stack:
    """An SMS stub and a worker on their own topic prefix, restartable."""

    bootstrap: str
    prefix: str
    env: dict[str, str]
    logs: Path
    sms: str
    web: str
    sinks: Child | None = None
    worker: Child | None = None
    generations: int = 0
    _stopped: list[Child] = field(default_factory=list)

    def start_worker(self) -> None:
        self.generations += 1
        self.worker = spawn(f"worker-{self.generations}", ["worker"], self.env, self.logs)
        wait_http(self.worker, f"{self.web}/ready", timeout=120)

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self._stopped.append(self.worker)
            self.worker = None

    def metric(self, name: str, labels: dict[str, str]) -> float:
        import urllib.request

        with urllib.request.urlopen(f"{self.web}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        want = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
        for line in text.splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        return 0.0

    def sms_messages(self) -> list[dict[str, Any]]:
        status, body = get_json(f"{self.sms}/v1/messages")
        assert status == 200
        return list(body["messages"])


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
