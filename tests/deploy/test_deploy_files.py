"""deploy/: Prometheus config and rules, the Grafana dashboard, docker-compose.yml.

Checked with the real tools where they are installed (``.ci/run`` installs
them: Debian's ``prometheus`` brings ``promtool``, ``docker-compose`` checks the
compose file without an engine). Every metric name the rules and the dashboard
use must be one the worker exports.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from streams.runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "yujing-overview.json"


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (.ci/run installs it)")
    return path


def test_promtool_accepts_config_and_rules() -> None:
    promtool = _need("promtool")
    for args in (("check", "config", "prometheus.yml"), ("check", "rules", "rules.yml")):
        done = _run(promtool, *args, cwd=PROM)
        assert done.returncode == 0, done.stdout + done.stderr


def test_alerting_rules_fire_as_their_unit_tests_say() -> None:
    promtool = _need("promtool")
    done = _run(promtool, "test", "rules", "rules_test.yml", cwd=PROM)
    assert done.returncode == 0, done.stdout + done.stderr


def test_rules_cover_lag_dead_letters_sla_and_worker_down() -> None:
    rules = yaml.safe_load((PROM / "rules.yml").read_text())
    exprs = {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert any("yujing_consumer_lag_messages" in e for e in exprs.values())
    assert any("yujing_dead_letters_total" in e for e in exprs.values())
    assert any("yujing_sla_breaches_total" in e for e in exprs.values())
    assert any(re.search(r"\bup\{", e) for e in exprs.values())


def test_compose_file_is_accepted() -> None:
    if shutil.which("docker-compose"):
        done = _run("docker-compose", "-f", "docker-compose.yml", "config", "-q")
    elif shutil.which("docker") and _run("docker", "compose", "version").returncode == 0:
        done = _run("docker", "compose", "-f", "docker-compose.yml", "config", "-q")
    else:
        pytest.skip("neither docker-compose nor the compose plugin is installed")
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_wires_prometheus_rules_and_grafana() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    grafana = services["grafana"]["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards/yujing:ro" in grafana
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/yujing.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/yujing"
    for port in [p for s in services.values() for p in s.get("ports", [])]:
        assert port.startswith("127.0.0.1:"), f"{port}: publish on loopback only"


def test_compose_has_the_three_node_cluster_as_a_profile() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    # `docker compose up` alone starts what it did: no default service joined the profile
    for name in ("kafka", "sinks", "worker", "prometheus", "grafana"):
        assert "profiles" not in services[name], name
    cluster = sorted(n for n, s in services.items() if "cluster" in s.get("profiles", []))
    assert cluster == ["kafka-1", "kafka-2", "kafka-3", "worker-cluster"]
    nodes = {name: services[name] for name in cluster[:3]}
    envs = {name: node["environment"] for name, node in nodes.items()}
    assert {node["image"] for node in nodes.values()} == {services["kafka"]["image"]}
    assert len({env["CLUSTER_ID"] for env in envs.values()}) == 1  # formatted as one cluster
    (voters,) = {env["KAFKA_CONTROLLER_QUORUM_VOTERS"] for env in envs.values()}
    quorum = dict(voter.split("@") for voter in voters.split(","))
    assert quorum == {env["KAFKA_NODE_ID"]: f"{name}:9093" for name, env in envs.items()}
    for name, env in envs.items():
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert f"PLAINTEXT://{name}:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
        # every topic, the internal ones too, on three replicas; two in sync take a write
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert env["KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR"] == "2"
        assert "test" in nodes[name]["healthcheck"]
    # each node's host listener is published on its own port, as advertised
    hosts = [e["KAFKA_ADVERTISED_LISTENERS"].split("HOST://localhost:")[1] for e in envs.values()]
    assert [node["ports"] for node in nodes.values()] == [[f"127.0.0.1:{p}:{p}"] for p in hosts]

    worker = services["worker-cluster"]
    assert worker["command"] == services["worker"]["command"]
    assert {n: c["condition"] for n, c in worker["depends_on"].items() if n in nodes} == {
        name: "service_healthy" for name in nodes
    }
    settings = Settings.from_env({k: str(v) for k, v in worker["environment"].items()})
    assert settings.kafka_bootstrap == ",".join(f"{name}:9092" for name in nodes)
    assert settings.replication_factor == 3


def dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def rule_exprs() -> list[str]:
    rules = yaml.safe_load((PROM / "rules.yml").read_text())
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


def exported_names() -> set[str]:
    """Every sample name a worker can export (families with their suffixes)."""
    from streams.runtime.app import create_pipeline

    registry = CollectorRegistry()
    create_pipeline(Settings(), registry=registry)
    names = {"up"}
    for family in registry.collect():
        base = family.name
        names |= {base, *(base + s for s in ("_total", "_bucket", "_sum", "_count"))}
    return names


def test_dashboard_and_rules_use_only_exported_metrics() -> None:
    known = exported_names()
    recorded = {
        r["record"]
        for g in yaml.safe_load((PROM / "rules.yml").read_text())["groups"]
        for r in g["rules"]
        if "record" in r
    }
    used: set[str] = set()
    for expr in dashboard_exprs() + rule_exprs():
        used |= set(re.findall(r"\b(yujing[a-z_:0-9]*|up)\b(?=\s*[{\[)\s])", expr + " "))
    assert "yujing_open_orders" in used and "yujing_alerts_total" in used
    unknown = {u for u in used if u not in known and u not in recorded}
    assert not unknown, f"not exported by a worker: {sorted(unknown)}"
