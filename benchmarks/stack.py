"""The processes a benchmark measures: SMS/voice stubs and worker processes on one prefix.

Outside the flow: ``yujing bench`` starts them against a broker, reads their
``/metrics`` (with ``YUJING_METRICS_TOKEN`` as a bearer token when the workers have
one) and their memory. Nothing here is timed itself.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from pydantic import SecretStr

from benchmarks.common import security
from streams.dev.broker import find_free_port
from streams.dev.runner import Child, get_json, spawn, wait_http
from streams.runtime.kafka_io import ensure_topics
from streams.runtime.settings import Settings
from streams.runtime.webauth import bearer

#: How often the bench reads the workers' /metrics while it waits (see Stack.wait_metric).
POLL_S = 2.0


def scrape(web: str, token: SecretStr | None = None) -> str:
    """A worker's ``/metrics`` text, asked with its ``YUJING_METRICS_TOKEN`` if any."""
    request = urllib.request.Request(f"{web}/metrics", headers=bearer(token))
    with urllib.request.urlopen(request, timeout=5) as resp:
        return str(resp.read().decode())


def metric_sum(
    webs: list[str], name: str, labels: str = "", token: SecretStr | None = None
) -> float:
    """The sum over workers of one sample (``labels`` as written inside ``{}``, or none)."""
    want = f"{name}{{{labels}}} " if labels else f"{name} "
    total = 0.0
    for web in webs:
        try:
            for line in scrape(web, token).splitlines():
                if line.startswith(want):
                    total += float(line.split()[-1])
        except urllib.error.HTTPError as err:
            if err.code == 401:  # never a passing state: say so rather than wait for ever
                raise RuntimeError(
                    f"{web}/metrics wants the workers' YUJING_METRICS_TOKEN"
                ) from None
        except OSError:
            pass
    return total


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (``VmRSS``) or at its peak (``VmHWM``), MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mb(pid: int) -> float:
    return rss_mb(pid, "VmHWM")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system, seconds) a process has used so far: its main thread's
    (the event loop: agents, producer) and the rest (Faust's consumer thread, mostly)."""

    def used(stat: Path) -> float:
        # the fields after the command's closing parenthesis: utime, stime are the 12th, 13th
        fields = stat.read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    try:
        total, main = used(Path(f"/proc/{pid}/stat")), used(Path(f"/proc/{pid}/task/{pid}/stat"))
    except OSError:
        return float("nan"), float("nan")
    return main, total - main


class Stack:
    """Sinks + ``workers`` worker processes on one topic prefix (one consumer group)."""

    def __init__(self, bs: str, prefix: str, workers: int, partitions: int, logs: Path) -> None:
        self.bs, self.prefix, self.logs = bs, prefix, logs
        self.children: list[Child] = []
        self.webs: list[str] = []
        sms, voice = find_free_port(), find_free_port()
        self.env = {
            "YUJING_KAFKA_BOOTSTRAP": bs,
            "YUJING_APP_ID": f"yujing-{prefix.rstrip('.')}",
            "YUJING_TOPIC_PREFIX": prefix,
            "YUJING_PARTITIONS": str(partitions),
            "YUJING_SMS_URL": f"http://127.0.0.1:{sms}",
            "YUJING_VOICE_URL": f"http://127.0.0.1:{voice}",
            "YUJING_SESSION_TIMEOUT_S": "10",
        }
        # the workers' token: they get this environment and the stack's
        self.metrics_token = Settings.from_env({**os.environ, **self.env}).metrics_token
        ensure_topics(bs, prefix, partitions, security=security())
        sinks = spawn(
            "sinks",
            ["sinks", "--sms-port", str(sms), "--voice-port", str(voice)],
            self.env,
            logs,
        )
        self.children.append(sinks)
        wait_http(sinks, f"http://127.0.0.1:{sms}/healthz", timeout=30)
        self.workers: list[Child] = []
        for w in range(workers):
            port = find_free_port()
            env = {
                **self.env,
                "YUJING_WEB_PORT": str(port),
                "YUJING_DATA_DIR": str(logs / f"worker-{w}"),
            }
            child = spawn(f"worker-{w}", ["worker", "--loglevel", "warning"], env, logs)
            self.children.append(child)
            self.workers.append(child)
            self.webs.append(f"http://127.0.0.1:{port}")

    def wait_ready(self, timeout: float = 180) -> None:
        """Every worker ready, and between them every partition of the readings topic."""
        deadline = time.monotonic() + timeout
        for child, web in zip(self.workers, self.webs, strict=True):
            wait_http(child, f"{web}/ready", timeout=max(1.0, deadline - time.monotonic()))
        # A worker ready before the next one joined is rebalancing again by now:
        # wait until every worker answers ready in two passes a second apart.
        passes = 0
        while passes < 2 and time.monotonic() < deadline:
            ok = all(get_json(f"{web}/ready")[0] == 200 for web in self.webs)
            passes = passes + 1 if ok else 0
            time.sleep(1.0)

    def wait_metric(self, name: str, labels: str, want: float, timeout: float) -> float:
        """Poll the workers until ``name`` sums to at least ``want``; its value.

        Every 2 s: a scrape of a worker's whole ``/metrics`` costs its event loop about
        17 ms (py-spy put the bench's old 0.5 s polling at 3.5 % of a busy worker's main
        thread; the deployed Prometheus scrapes every 5 s). What is timed comes from Kafka's
        timestamps, so the polling's pace only decides when the bench looks."""
        deadline = time.monotonic() + timeout
        got = 0.0
        while time.monotonic() < deadline:
            got = metric_sum(self.webs, name, labels, self.metrics_token)
            if got >= want:
                return got
            time.sleep(POLL_S)
        raise TimeoutError(f"{name}{{{labels}}}: {got:.0f} of {want:.0f} within {timeout:g} s")

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
