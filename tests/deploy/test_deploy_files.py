"""deploy/: Prometheus config and rules, the Grafana dashboard, docker-compose.yml.

Checked with the real tools where they are installed (``.ci/run`` installs
them: Debian's ``prometheus`` brings ``promtool``, ``docker-compose`` checks the
compose file without an engine). Every metric name the rules and the dashboard
use must be one the worker exports. Nothing secret is in these files: Prometheus
scrapes with the workers' metrics token from a compose secret, the workers get
their tokens from an env file and Grafana its admin password from a secret file,
all written by ``deploy/secrets.sh`` (here into a temporary directory).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
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
#: Where Prometheus reads the workers' metrics token: the compose secret metrics_token.
SCRAPE_TOKEN = "/run/secrets/metrics_token"


def _run(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **(env or {})}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60, env=environ)


def _secrets(tmp_path: Path) -> Path:
    """The secrets ``deploy/secrets.sh`` writes, in a temporary directory."""
    done = _run("sh", str(ROOT / "deploy" / "secrets.sh"), str(tmp_path / "secrets"))
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "secrets"


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (.ci/run installs it)")
    return path


def test_promtool_accepts_config_and_rules(tmp_path: Path) -> None:
    promtool = _need("promtool")
    # promtool checks that the scrape's credentials file exists: the compose secret's
    # path is a container's, so the config is checked next to a token file of ours
    token = _secrets(tmp_path) / "metrics_token"
    config = (PROM / "prometheus.yml").read_text()
    assert config.count(SCRAPE_TOKEN) == 1
    (tmp_path / "prometheus.yml").write_text(config.replace(SCRAPE_TOKEN, str(token)))
    shutil.copy(PROM / "rules.yml", tmp_path / "rules.yml")
    for args in (("check", "config", "prometheus.yml"), ("check", "rules", "rules.yml")):
        done = _run(promtool, *args, cwd=tmp_path)
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


def _compose() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and _run("docker", "compose", "version").returncode == 0:
        return ["docker", "compose"]
    pytest.skip("neither docker-compose nor the compose plugin is installed")


def test_compose_file_is_accepted(tmp_path: Path) -> None:
    compose = [*_compose(), "-f", "docker-compose.yml", "config"]
    secrets = _secrets(tmp_path)
    done = _run(*compose, "-q", env={"YUJING_SECRETS": str(secrets)})
    assert done.returncode == 0, done.stdout + done.stderr
    # the workers' tokens come from the env file the script wrote, and nowhere else
    resolved = yaml.safe_load(_run(*compose, env={"YUJING_SECRETS": str(secrets)}).stdout)
    tokens = {name: (secrets / name).read_text() for name in ("web_token", "metrics_token")}
    for name in ("worker", "worker-cluster"):
        env = resolved["services"][name]["environment"]
        assert env["YUJING_WEB_TOKEN"] == tokens["web_token"]
        assert env["YUJING_METRICS_TOKEN"] == tokens["metrics_token"]
    files = {name: Path(s["file"]) for name, s in resolved["secrets"].items()}
    assert files == {
        "metrics_token": secrets / "metrics_token",
        "grafana_admin_password": secrets / "grafana_admin_password",
        "kafka_jaas": secrets / "kafka_jaas.conf",
        "kafka_admin": secrets / "kafka_admin.properties",
    }
    # Kafka: every listener of every node is SASL, its users from the JAAS secret; the
    # health check logs in as admin; the workers log in as worker; no topic on first use
    kafka = {n: s for n, s in resolved["services"].items() if n == "kafka" or "kafka-" in n}
    assert sorted(kafka) == ["kafka", "kafka-1", "kafka-2", "kafka-3"]
    for name, service in kafka.items():
        env = service["environment"]
        protocols = dict(
            p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
        )
        listeners = [u.split("://")[0] for u in env["KAFKA_LISTENERS"].split(",")]
        assert {protocols[name] for name in listeners} == {"SASL_PLAINTEXT"}, name
        assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "PLAIN"
        assert env["KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL"] == "PLAIN"
        assert env["KAFKA_OPTS"] == "-Djava.security.auth.login.config=/run/secrets/kafka_jaas"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        sources = [x["source"] if isinstance(x, dict) else x for x in service["secrets"]]
        assert sorted(sources) == ["kafka_admin", "kafka_jaas"]
        assert "--command-config /run/secrets/kafka_admin" in " ".join(
            service["healthcheck"]["test"]
        )
    for name in ("worker", "worker-cluster"):
        env = resolved["services"][name]["environment"]
        assert env["YUJING_KAFKA_SASL_USERNAME"] == "worker"
        assert env["YUJING_KAFKA_SASL_PASSWORD"] == (secrets / "kafka_worker").read_text()
    assert not any(
        pw.read_text() in (ROOT / "docker-compose.yml").read_text()
        for pw in secrets.glob("kafka_*")
    )
    # without the secrets, compose refuses to start rather than run the pages open
    missing = _run(*compose, "-q", env={"YUJING_SECRETS": str(tmp_path / "none")})
    assert missing.returncode != 0 and "worker.env" in missing.stdout + missing.stderr


def test_the_secrets_script_keeps_what_is_there_and_hides_the_directory(tmp_path: Path) -> None:
    secrets = _secrets(tmp_path)
    first = {p.name: p.read_text() for p in secrets.iterdir()}
    users = ("broker", "admin", "worker", "tools", "downstream")
    assert set(first) == {
        ".gitignore",
        "web_token",
        "metrics_token",
        "grafana_admin_password",
        "worker.env",
        "tools.env",
        "kafka_jaas.conf",
        "kafka_admin.properties",
        *(f"kafka_{u}" for u in users),
    }
    for name in ("web_token", "metrics_token"):
        Settings.from_env({f"YUJING_{name.upper()}": first[name]})  # a token the worker takes
    # each Kafka user is in the brokers' JAAS file with its own password, and the worker's
    # and the tools' env files are settings the tools load as they are
    assert len({first[f"kafka_{u}"] for u in users}) == len(users)
    for u in users:
        assert f'user_{u}="{first[f"kafka_{u}"]}"' in first["kafka_jaas.conf"]
    assert f'password="{first["kafka_admin"]}";' in first["kafka_admin.properties"]
    for user, env in (("worker", "worker.env"), ("tools", "tools.env")):
        variables = dict(line.split("=", 1) for line in first[env].splitlines())
        loaded = Settings.from_env(variables)
        assert loaded.kafka_sasl_username == user
        assert variables["YUJING_KAFKA_SASL_PASSWORD"] == first[f"kafka_{user}"]
    assert len({first["web_token"], first["metrics_token"], first["grafana_admin_password"]}) == 3
    (secrets / "web_token").unlink()  # rotating one secret
    assert _secrets(tmp_path) == secrets
    again = {p.name: p.read_text() for p in secrets.iterdir()}
    assert again["metrics_token"] == first["metrics_token"]
    assert again["web_token"] != first["web_token"]
    assert f"YUJING_WEB_TOKEN={again['web_token']}\n" in again["worker.env"]
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert stat.S_IMODE((secrets / "worker.env").stat().st_mode) == 0o600


def test_prometheus_scrapes_with_the_metrics_token_from_a_secret_file() -> None:
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["authorization"] == {"type": "Bearer", "credentials_file": SCRAPE_TOKEN}
    assert "bearer_token" not in job and "credentials" not in job["authorization"]
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["prometheus"]["secrets"] == ["metrics_token"]  # /run/secrets/<name>


def test_compose_gives_no_secret_in_the_file_and_grafana_no_anonymous_access() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("worker", "worker-cluster"):
        env = services[name]["environment"]
        assert not {"YUJING_WEB_TOKEN", "YUJING_METRICS_TOKEN"} & set(env), name
        assert services[name]["env_file"] == ["${YUJING_SECRETS:-./secrets}/worker.env"]
    grafana = services["grafana"]
    env = grafana["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env  # never a literal: the file's
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana_admin_password"
    assert grafana["secrets"] == ["grafana_admin_password"]
    assert {name: s["file"] for name, s in compose["secrets"].items()} == {
        n: f"${{YUJING_SECRETS:-./secrets}}/{file}"
        for n, file in (
            ("metrics_token", "metrics_token"),
            ("grafana_admin_password", "grafana_admin_password"),
            ("kafka_jaas", "kafka_jaas.conf"),
            ("kafka_admin", "kafka_admin.properties"),
        )
    }


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
        assert f"INTERNAL://{name}:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
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
