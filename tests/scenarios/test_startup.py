"""How tools start: an absent broker is one line, topics are made before a worker runs,
a topic with the wrong partition count stops the worker, and a prefix isolates a run.

The unreachable-broker cases need no broker (that is the point: a closed port,
or a port that accepts connections and never answers Kafka); the others run
on the real broker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.registry import TOPICS
from streams.dev.broker import find_free_port
from streams.runtime.app import create_pipeline
from streams.runtime.provision import PartitionsMismatch, ensure_topics, registry_plan
from streams.runtime.reach import BrokerUnreachable, require_broker
from streams.runtime.settings import Settings
from streams.runtime.worker import changelog_topics

#: A person waits this long at most before the tool says what is wrong.
SAY_WITHIN_S = 10.0


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str, float]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("YUJING_")}
    full.update(env)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


def _assert_one_line(rc: int, out: str, err: str, took: float, says: str) -> None:
    assert rc != 0, (out, err)
    assert "Traceback" not in out + err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert says in lines[0], err
    assert took < SAY_WITHIN_S, f"took {took:.1f} s: {err}"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (not Kafka)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for c in held:
            c.close()
        server.close()


TOOLS = {
    "worker": ["worker"],
    "replay": ["replay", "READING"],
    "tail": ["tail", "alerts"],
    "simulate": ["simulate", "--kafka", "--hours", "0.1", "--towns", "1", "--quiet"],
    "demo": ["demo"],
    "bench": ["bench", "--json"],
}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_every_tool_says_in_one_line_that_the_broker_is_not_reachable(
    tool: str, tmp_path: Path
) -> None:
    reading = tmp_path / "one.jsonl"
    reading.write_text(
        '{"reading_id": "r-1", "sensor_id": "gas-1", "sensor_kind": "gas_lel", '
        '"place_id": "site.x", "value": 31.0, "event_time": "2026-03-01T08:00:00+08:00"}\n'
    )
    closed = find_free_port()  # nobody listens here
    args = [str(reading) if a == "READING" else a for a in TOOLS[tool]]
    env = {
        "YUJING_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed}",
        "YUJING_WEB_PORT": str(find_free_port()),
        "YUJING_DATA_DIR": str(tmp_path / "data"),
    }
    rc, out, err, took = _run(args, env, tmp_path)
    _assert_one_line(rc, out, err, took, f"broker not reachable at 127.0.0.1:{closed}")
    assert rc == 3


def test_a_port_that_is_not_kafka_is_not_a_broker(silent_port: int, tmp_path: Path) -> None:
    env = {"YUJING_KAFKA_BOOTSTRAP": f"127.0.0.1:{silent_port}"}
    rc, out, err, took = _run(["tail", "alerts"], env, tmp_path)
    _assert_one_line(rc, out, err, took, f"broker not reachable at 127.0.0.1:{silent_port}")


def test_map_says_in_one_line_that_a_worker_is_not_reachable(tmp_path: Path) -> None:
    port = find_free_port()
    rc, out, err, took = _run(["map"], {"YUJING_WEB_PORT": str(port)}, tmp_path)
    _assert_one_line(rc, out, err, took, f"worker not reachable at http://127.0.0.1:{port}")


def test_the_probe_names_every_server_and_gives_up_in_time() -> None:
    a, b = find_free_port(), find_free_port()
    started = time.monotonic()
    with pytest.raises(BrokerUnreachable, match=f"127.0.0.1:{a},127.0.0.1:{b}"):
        require_broker(f"127.0.0.1:{a},127.0.0.1:{b}", timeout=2.0)
    assert time.monotonic() - started < 3.0
    with pytest.raises(BrokerUnreachable, match="is not HOST:PORT"):
        require_broker("localhost")


def test_a_prefix_names_the_group_and_every_changelog(tmp_path: Path) -> None:
    """Faust names changelogs ``<id>-<table>-changelog`` and its group ``<id>``."""
    names = {}
    for prefix in ("qa0.", "qa1."):
        settings = Settings(
            kafka_bootstrap="127.0.0.1:1", topic_prefix=prefix, data_dir=tmp_path / prefix
        )
        pipe = create_pipeline(settings)
        assert pipe.app.conf.id == f"{prefix}yujing"  # the consumer group
        changelogs = [name for name, _ in changelog_topics(pipe)]
        assert changelogs and all(n.startswith(f"{prefix}yujing-") for n in changelogs)
        topics = {t for topic in pipe.topics.values() for t in topic.topics}
        assert topics == {prefix + name for name in TOPICS}
        names[prefix] = set(changelogs) | topics | {pipe.app.conf.id}
    assert not names["qa0."] & names["qa1."]


def test_the_data_dir_defaults_to_the_data_home_per_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    s = Settings.from_env({"YUJING_TOPIC_PREFIX": "qa0."})
    assert s.data_path == tmp_path / "xdg" / "yujing" / "worker" / "qa0.yujing"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings().data_path == tmp_path / "home/.local/share/yujing/worker/yujing"
    assert Settings(data_dir=Path("/srv/w")).data_path == Path("/srv/w")


def test_the_local_broker_port_is_the_default_bootstrap() -> None:
    assert Settings.from_env({"YUJING_BROKER_PORT": "39999"}).kafka_bootstrap == ("127.0.0.1:39999")
    both = {"YUJING_BROKER_PORT": "39999", "YUJING_KAFKA_BOOTSTRAP": "kafka:9092"}
    assert Settings.from_env(both).kafka_bootstrap == "kafka:9092"


# --------------------------------------------------------------------------- real broker


def _partitions(bootstrap: str, names: list[str]) -> dict[str, int]:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}
    finally:
        admin.close()


def _create(bootstrap: str, name: str, partitions: int) -> None:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics({name: {"num_partitions": partitions, "replication_factor": 1}})
    finally:
        admin.close()


@pytest.mark.integration
def test_topics_are_created_once_with_their_partitions_and_retention(
    kafka_bootstrap: str, unique_prefix: str
) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    prefix = unique_prefix + "."
    plan = registry_plan(prefix, 3)
    created = ensure_topics(kafka_bootstrap, plan)
    assert created == sorted(prefix + name for name in TOPICS)
    assert ensure_topics(kafka_bootstrap, plan) == []  # idempotent
    assert set(_partitions(kafka_bootstrap, created).values()) == {3}

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        name = prefix + "yujing.ticks.v1"
        answer = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        admin.close()
    assert answer["topic"][name]["retention.ms"]["value"] == "3600000"


@pytest.mark.integration
def test_ensure_topics_refuses_a_topic_with_another_partition_count(
    kafka_bootstrap: str, unique_prefix: str
) -> None:
    prefix = unique_prefix + "."
    _create(kafka_bootstrap, prefix + "yujing.alerts.v1", 1)
    with pytest.raises(PartitionsMismatch) as info:
        ensure_topics(kafka_bootstrap, registry_plan(prefix, 2))
    assert str(info.value).startswith(
        f"topic {prefix}yujing.alerts.v1 has 1 partition(s) on the broker, this run needs 2"
    )


@pytest.mark.integration
@pytest.mark.parametrize("which", ["registry", "changelog"])
def test_a_worker_refuses_to_start_on_a_topic_with_another_partition_count(
    which: str, kafka_bootstrap: str, unique_prefix: str, tmp_path: Path
) -> None:
    prefix = unique_prefix + "."
    # what a broker that auto-creates topics leaves behind: one partition
    name = prefix + ("yujing.readings.v1" if which == "registry" else "yujing-orders-changelog")
    _create(kafka_bootstrap, name, 1)
    env = {
        "YUJING_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "YUJING_TOPIC_PREFIX": prefix,
        "YUJING_WEB_PORT": str(find_free_port()),
        "YUJING_DATA_DIR": str(tmp_path / "data"),
    }
    rc, out, err, took = _run(["worker"], env, tmp_path)
    says = f"topic {name} has 1 partition(s) on the broker, this run needs 2"
    _assert_one_line(rc, out, err, took, says)
    assert err.startswith("yujing worker: "), err
    assert _partitions(kafka_bootstrap, [name]) == {name: 1}  # left as it was


@pytest.mark.integration
def test_a_worker_says_so_when_its_web_port_is_taken(
    kafka_bootstrap: str, unique_prefix: str, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {
            "YUJING_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "YUJING_TOPIC_PREFIX": unique_prefix + ".",
            "YUJING_WEB_PORT": str(port),
            "YUJING_DATA_DIR": str(tmp_path / "data"),
        }
        rc, out, err, took = _run(["worker"], env, tmp_path)
    _assert_one_line(rc, out, err, took, f"cannot listen on 127.0.0.1:{port}")


@pytest.mark.integration
def test_a_worker_alone_on_fresh_topics_creates_them_and_ticks_every_partition(
    kafka_bootstrap: str, unique_prefix: str, tmp_path: Path
) -> None:
    """What used to crash: the broker auto-created the ticks topic with one partition
    and the tick publisher died with ``AssertionError: Unrecognized partition``."""
    from support import wait_for

    from streams.dev.runner import spawn, wait_http
    from streams.runtime.kafka_io import read_topic

    prefix = unique_prefix + "."
    port = find_free_port()
    env = {
        "YUJING_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "YUJING_TOPIC_PREFIX": prefix,
        "YUJING_WEB_PORT": str(port),
        "XDG_DATA_HOME": str(tmp_path / "data-home"),
        "YUJING_TICK_INTERVAL_S": "0.2",
    }
    worker = spawn("worker", ["worker", "--loglevel", "warning"], env, tmp_path)
    try:
        wait_http(worker, f"http://127.0.0.1:{port}/ready", timeout=120)
        log = worker.log_path.read_text()
        assert f"topics prefixed '{prefix}' ({len(TOPICS)} created)" in log, log
        names = [prefix + name for name in TOPICS]
        assert set(_partitions(kafka_bootstrap, names).values()) == {2}
        ticks = prefix + "yujing.ticks.v1"
        wait_for(
            lambda: (
                {r.partition for r in read_topic(kafka_bootstrap, ticks, timeout_s=2)} == {0, 1}
            ),
            timeout=30,
            what="ticks on both partitions",
        )
        assert worker.proc.poll() is None, worker.log_tail()
        assert (tmp_path / "data-home" / "yujing" / "worker" / f"{prefix}yujing").is_dir()
    finally:
        worker.stop()
    assert "Traceback" not in worker.log_path.read_text(), worker.log_tail()


def test_demo_secure_says_in_one_line_that_it_runs_on_its_own_broker(tmp_path: Path) -> None:
    rc, out, err, took = _run(
        ["demo", "--secure"], {"YUJING_KAFKA_BOOTSTRAP": "10.0.0.1:9092"}, tmp_path
    )
    _assert_one_line(rc, out, err, took, "demo --secure runs on the local broker it starts")
