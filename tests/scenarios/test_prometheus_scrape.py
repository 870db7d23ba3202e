"""A real Prometheus server (Debian's ``prometheus``) scrapes a real worker.

The worker runs as a process on the real broker; Prometheus runs on a
loopback port with a temporary data directory, scrapes the worker every
second and evaluates ``deploy/prometheus/rules.yml``. PromQL over its HTTP API
must return the pipeline's metrics after readings went through, every rule
must evaluate without error, and every dashboard query must be valid PromQL.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import Stack, wait_for

from schemas.registry import READINGS
from streams.dev.broker import find_free_port
from streams.tools.demo import expected_alerts, sample_readings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "yujing-overview.json"


class Prometheus:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.proc, self.log = url, proc, log

    def api(self, path: str, **params: str) -> Any:
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=5) as resp:
            body = json.loads(resp.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> dict[str, float]:
        """Instant query → {label set as text: value}."""
        data = self.api("query", query=promql)
        return {
            json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in data["result"]
        }


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[Callable[[str], Prometheus]]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("Debian's prometheus is not installed (.ci/run installs it)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(target: str) -> Prometheus:
        port = find_free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            json.dumps(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(RULES)],
                    "scrape_configs": [
                        {"job_name": "yujing-worker", "static_configs": [{"targets": [target]}]}
                    ],
                }
            )
        )
        log = tmp_path / "prometheus.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        procs.append(proc)
        prom = Prometheus(f"http://127.0.0.1:{port}", proc, log)

        def ready() -> bool:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{prom.url}/-/ready", timeout=2) as resp:
                    return resp.status == 200
            except OSError:
                return False

        wait_for(ready, timeout=30, what="prometheus ready")
        return prom

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_prometheus_scrapes_the_pipeline_metrics_and_evaluates_the_rules(
    make_stack_env: Callable[..., Stack], prometheus_for: Callable[[str], Prometheus]
) -> None:
    stack = make_stack_env()
    prom = prometheus_for(stack.web.removeprefix("http://"))
    readings = sample_readings(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=7))
    alerts = expected_alerts(readings)
    stack.produce(*readings)
    stack.produce_raw(READINGS, b"{not json", key=b"gas-0009")
    topic = READINGS.name

    def scraped_all() -> dict[str, float] | None:
        got = prom.query(f'sum(yujing_events_in_total{{topic="{topic}"}})')
        return got if got and max(got.values()) >= len(readings) + 1 else None

    wait_for(scraped_all, timeout=60, what="Prometheus to scrape every reading")
    assert prom.query('up{job="yujing-worker"}') == {
        json.dumps(
            {
                "__name__": "up",
                "instance": stack.web.removeprefix("http://"),
                "job": "yujing-worker",
            },
            sort_keys=True,
        ): 1.0
    }
    wait_for(
        lambda: sum(prom.query("yujing_alerts_total").values()) >= alerts,
        timeout=30,
        what="alerts counted by level",
    )
    levels = {json.loads(k)["level"] for k in prom.query("yujing_alerts_total")}
    assert levels, "alerts by level"
    assert prom.query('yujing_dead_letters_total{reason="not_json"}')
    kinds = {json.loads(k)["kind"] for k in prom.query("yujing_detector_seconds_count")}
    assert "threshold" in kinds
    wait_for(lambda: prom.query("yujing_open_orders"), timeout=30, what="open orders by state")
    lag = wait_for(
        lambda: prom.query(f'yujing_consumer_lag_messages{{topic="{topic}"}}'),
        timeout=30,
        what="consumer lag of the readings topic",
    )
    assert {json.loads(k)["partition"] for k in lag} == {"0", "1"}
    wait_for(
        lambda: sum(prom.query(f'yujing_consumer_lag_messages{{topic="{topic}"}}').values()) == 0,
        timeout=30,
        what="the readings lag to drain to 0 once everything is committed",
    )
    assert prom.query("faust_messages_received_total"), "faust's sensor on the same registry"

    # every rule of deploy/prometheus/rules.yml evaluates against real series
    def rules_evaluated() -> list[dict[str, Any]] | None:
        rules = [r for g in prom.api("rules")["groups"] for r in g["rules"]]
        done = all(r.get("lastEvaluation", "0001").startswith("20") for r in rules)
        return rules if rules and done else None

    rules = wait_for(rules_evaluated, timeout=30, what="rules evaluated")
    assert {r["health"] for r in rules} == {"ok"}, [r for r in rules if r["health"] != "ok"]
    firing = {r["name"] for r in rules if r.get("state") == "firing"}
    assert not firing & {"YujingWorkerDown", "YujingNoWorkers"}

    # every dashboard query is valid PromQL against this server
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            prom.api("query", query=target["expr"], time=f"{time.time():.3f}")
