"""A real Prometheus scrapes a worker's token-guarded ``/metrics`` with the deployed job.

Broker-free: the worker's web server as ``create_pipeline`` builds it (with
``YUJING_METRICS_TOKEN``) is served by aiohttp's test server on 127.0.0.1, and
Debian's ``prometheus`` (``.ci/run`` installs it) runs on a loopback port with a
temporary data directory. Its config is ``deploy/prometheus/prometheus.yml``'s
scrape job, the token file and the target changed to this test's: with the
workers' token the target is up and its metrics are stored; the same job with
another token finds it down (``up == 0``), which the ``YujingWorkerDown`` alert
watches.
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from streams.dev.broker import find_free_port
from streams.runtime.app import create_pipeline
from streams.runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
TOKEN = "metrics-token-for-prometheus-0123"


def _config(tmp_path: Path, target: str) -> Path:
    """The deployed scrape job against ``target``: once with the workers' token, once
    (job ``wrong-token``) with another."""
    [job] = yaml.safe_load(CONFIG.read_text())["scrape_configs"]
    jobs = []
    for name, token in ((job["job_name"], TOKEN), ("wrong-token", TOKEN[::-1])):
        token_file = tmp_path / f"{name}.token"
        token_file.write_text(token + "\n")
        scrape = copy.deepcopy(job)
        scrape["job_name"] = name
        scrape["static_configs"] = [{"targets": [target]}]
        scrape["authorization"]["credentials_file"] = str(token_file)
        jobs.append(scrape)
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": jobs}))
    return config


def _query(url: str, promql: str) -> dict[str, float]:
    query = urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=5) as resp:
        body = json.loads(resp.read())
    return {r["metric"].get("job", ""): float(r["value"][1]) for r in body["data"]["result"]}


def _poll(url: str, promql: str, want: int, timeout: float = 30.0) -> dict[str, float]:
    """Until ``promql`` has ``want`` series (Prometheus not yet up counts as none)."""
    deadline = time.monotonic() + timeout
    got: dict[str, float] = {}
    while time.monotonic() < deadline:
        try:
            got = _query(url, promql)
        except OSError:
            got = {}
        if len(got) >= want:
            return got
        time.sleep(0.5)
    raise AssertionError(f"{promql}: {got} after {timeout:g} s")


def test_prometheus_scrapes_with_the_token_file_and_a_wrong_token_is_down(
    tmp_path: Path,
) -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("Debian's prometheus is not installed (.ci/run installs it)")
    env = {"YUJING_METRICS_TOKEN": TOKEN}
    settings = Settings.from_env(env, data_dir=tmp_path / "worker")
    pipe = create_pipeline(settings, registry=CollectorRegistry())
    pipe.metrics.events_in.labels("probe").inc(7)

    async def main() -> dict[str, Any]:
        pipe.app.web.init_server()  # as the worker does
        served = pipe.app.web.web_app  # type: ignore[attr-defined]  # the aiohttp driver's app
        async with TestClient(TestServer(served, host="127.0.0.1")) as client:
            target = f"127.0.0.1:{client.port}"
            port = find_free_port()
            url = f"http://127.0.0.1:{port}"
            args = [
                binary,
                f"--config.file={_config(tmp_path, target)}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ]
            with open(tmp_path / "prometheus.log", "wb") as log:
                proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
            try:
                up = await asyncio.to_thread(_poll, url, "up", 2)
                events = await asyncio.to_thread(
                    _poll, url, 'yujing_events_in_total{topic="probe"}', 1
                )
            finally:
                proc.terminate()
                proc.wait(10)
        return {"up": up, "events": events}

    got = asyncio.run(main())
    assert got["up"] == {"yujing-worker": 1.0, "wrong-token": 0.0}
    assert got["events"] == {"yujing-worker": 7.0}
