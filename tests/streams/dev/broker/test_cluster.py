"""Tests of the local three-node KRaft cluster (streams.dev.broker.cluster) and of
``yujing broker ... --nodes 3``.

The tests without a broker check the input the cluster refuses, each in one line. The
``integration`` tests start a real three-node cluster from Kafka's jars, with a
temporary home and free ports, and stop it at the end of the module whatever happens:
it answers on all three nodes, a topic with three replicas of which two must be in
sync takes writes acked by all and serves reads after one node is killed with
SIGKILL, the killed node is started again, and ``stop`` leaves no process behind.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import Popen

import pytest

from streams.dev.broker import BrokerConfig, BrokerError, LocalCluster, check_java, find_free_port
from streams.dev.broker.probe import _ephemeral_range, port_in_use

Cli = Callable[..., int]  # the ``yujing`` fixture: argv -> exit code
StandIn = Callable[..., Popen[bytes]]  # the ``stand_in`` fixture
_SLEEP = "import time; time.sleep(60)"


def _free_port_runs(nodes: int = 3) -> tuple[int, int]:
    """A client port and a controller port, each starting ``nodes`` free ports in a row:
    in 20000-28999, below the kernel's ephemeral range where it starts above it (a port
    in that range can be taken by any outgoing connection once the cluster stops, as CI
    saw), else in 40000-48999 (away from the other brokers on a shared machine)."""
    low, _ = _ephemeral_range()
    start, end = (20000, 28900) if low > 29000 else (40000, 48900)
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(start, end)
        controller_port = port + 50
        wanted = [p + i for p in (port, controller_port) for i in range(nodes)]
        if not any(port_in_use(p) for p in wanted):
            return port, controller_port
    raise AssertionError(f"no free run of ports in {start}-{end + 99}")


def _flags(home: Path, port: int, controller_port: int) -> list[str]:
    return [
        *("broker", "--home", str(home)),
        *("--port", str(port), "--controller-port", str(controller_port)),
    ]


def _err_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, f"not one line: {err!r}"  # one line, not a traceback
    return err.strip()


# --------------------------------------------------------------------- without a broker


@pytest.mark.parametrize("nodes", ["0", "2", "5", "-1"])
def test_only_one_or_three_nodes(
    nodes: str, tmp_path: Path, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    port, controller_port = _free_port_runs()
    for command in ("start", "status", "stop"):
        code = yujing(*_flags(tmp_path, port, controller_port), command, "--nodes", nodes)
        assert code == 2
        assert _err_line(capsys).startswith(f"yujing broker: --nodes must be 1 or 3, got {nodes}")
    assert not (tmp_path / "cluster").exists()


def test_three_nodes_move_the_default_controller_ports_and_refuse_a_chosen_overlap(
    tmp_path: Path, yujing: Cli, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from streams.dev.broker.cli import _config

    # 9092 + i and 9093 + i: node 0's controller port would be node 1's client port, so
    # without a controller port chosen on purpose the controllers move to 9192 + i
    monkeypatch.delenv("YUJING_BROKER_PORT", raising=False)
    monkeypatch.delenv("YUJING_BROKER_CONTROLLER_PORT", raising=False)
    args = argparse.Namespace(home=tmp_path, port=None, controller_port=None, nodes=3)
    assert (_config(args).port, _config(args).controller_port) == (9092, 9192)
    args.nodes = None  # one node keeps the defaults
    assert _config(args).controller_port == 9093
    # chosen on purpose (the variable or the flag): kept, and the overlap refused
    monkeypatch.setenv("YUJING_BROKER_CONTROLLER_PORT", "9093")
    assert yujing("broker", "--home", str(tmp_path), "start", "--nodes", "3") == 2
    err = _err_line(capsys)
    assert "client ports 9092-9094 and the controller ports 9093-9095" in err
    assert "YUJING_BROKER_CONTROLLER_PORT=9192" in err


def test_ports_beyond_the_range_name_the_field(
    tmp_path: Path, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    assert yujing(*_flags(tmp_path, 65534, 40000), "start", "--nodes", "3") == 2
    assert _err_line(capsys) == (
        "yujing broker: port must be between 1 and 65533 for 3 nodes "
        "(node i listens on port + i), got 65534"
    )
    assert yujing(*_flags(tmp_path, 40000, 65535), "start", "--nodes", "3") == 2
    assert "controller_port must be between 1 and 65533" in _err_line(capsys)


def test_a_taken_port_names_the_node(tmp_path: Path) -> None:
    port, controller_port = _free_port_runs()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port + 1))
        squatter.listen()
        config = BrokerConfig(home=tmp_path, port=port, controller_port=controller_port)
        with pytest.raises(BrokerError, match=rf"port {port + 1} \(node 1's client port\)"):
            LocalCluster(config).start(timeout=5)


def test_status_and_stop_of_a_cluster_that_never_ran(
    tmp_path: Path, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    port, controller_port = _free_port_runs()
    flags = _flags(tmp_path, port, controller_port)
    assert yujing(*flags, "status", "--nodes", "3") == 3
    assert capsys.readouterr().out.splitlines() == [
        f"node={i} running=no answering=no pid=- bootstrap=127.0.0.1:{port + i}" for i in range(3)
    ]
    assert yujing(*flags, "stop", "--nodes", "3") == 0
    assert capsys.readouterr().out.strip() == f"no broker was running for {tmp_path.resolve()}"


def test_the_single_broker_and_the_cluster_of_a_home_exclude_each_other(
    tmp_path: Path, stand_in: StandIn, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs /proc to list processes")
    port, controller_port = _free_port_runs()
    cluster = LocalCluster(BrokerConfig(home=tmp_path, port=port, controller_port=controller_port))
    flags = _flags(tmp_path, port, controller_port)
    single = tmp_path / "broker" / "server.properties"
    single.parent.mkdir(parents=True)
    lone = stand_in(_SLEEP, "kafka.Kafka", str(single))
    with pytest.raises(BrokerError, match=rf"single-node broker of .* runs \(pid {lone.pid}\)"):
        cluster.start(timeout=5)
    lone.kill()
    lone.wait()

    node = cluster.nodes[1]
    node.files.dir.mkdir(parents=True)
    one = stand_in(_SLEEP, "kafka.Kafka", str(node.files.properties_path))
    assert yujing(*flags, "start") == 2
    assert f"the 3-node cluster of {tmp_path} runs (pids {one.pid})" in _err_line(capsys)
    # status and stop without --nodes find the cluster this home runs
    assert yujing(*flags, "status") == 3
    assert f"node=1 running=yes answering=no pid={one.pid}" in capsys.readouterr().out
    assert yujing(*flags, "stop") == 0
    assert capsys.readouterr().out.strip() == f"broker stopped (pids {one.pid})"
    assert one.poll() is not None


# ----------------------------------------------------------------------- real cluster


def _cluster_processes(home: Path) -> list[int]:
    """Pids of every kafka.Kafka process running with a properties file of this home's
    cluster (not only those in pid files)."""
    proc = Path("/proc")
    if not proc.is_dir():
        pytest.skip("needs /proc to list processes")
    prefix = str(home / "cluster").encode()
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in argv and any(arg.startswith(prefix) for arg in argv):
            pids.append(int(entry.name))
    return sorted(pids)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A LocalCluster with its own home and ports (not started); stopped afterwards."""
    try:
        check_java()
    except BrokerError as exc:
        pytest.skip(f"no usable Java for the local broker: {exc}")
    port, controller_port = _free_port_runs()
    home = tmp_path_factory.mktemp("cluster-home")
    local = LocalCluster(BrokerConfig(home=home, port=port, controller_port=controller_port))
    try:
        yield local
    finally:
        local.stop()


def _start(cluster: LocalCluster, yujing: Cli, capsys: pytest.CaptureFixture[str]) -> list[int]:
    """``yujing broker start --nodes 3``; the pids it printed."""
    cfg = cluster.config
    flags = _flags(cfg.home, cfg.port, cfg.controller_port)
    code = yujing(*flags, "start", "--nodes", "3", "--timeout", "120")
    out = capsys.readouterr()
    assert code == 0, out.err
    bootstrap = ",".join(f"127.0.0.1:{cfg.port + i}" for i in range(3))
    head, _, rest = out.out.strip().partition(" (pids ")
    assert head == f"broker running at {bootstrap}"
    pids, _, files = rest.partition(", files in ")
    assert files == f"{cluster.dir})"
    return [int(pid) for pid in pids.split(", ")]


def _wait_for(what: str, condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.2)


def _consume(bootstrap: str, topic: str, group: str, count: int) -> list[bytes]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap.split(","),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        values: list[bytes] = []
        deadline = time.monotonic() + 90
        while len(values) < count:
            assert time.monotonic() < deadline, f"read {len(values)} of {count} within 90 s"
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend(record.value for record in records)
        consumer.commit()  # the group's offsets: on __consumer_offsets, three replicas too
        return values
    finally:
        consumer.close()


@pytest.mark.integration
def test_three_nodes_answer_and_status_covers_them(
    cluster: LocalCluster, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    pids = _start(cluster, yujing, capsys)
    assert pids == cluster.running_pids() == _cluster_processes(cluster.config.home)
    assert _start(cluster, yujing, capsys) == pids  # idempotent: the same three

    cfg = cluster.config
    assert yujing(*_flags(cfg.home, cfg.port, cfg.controller_port), "status") == 0
    assert capsys.readouterr().out.splitlines() == [
        f"node={i} running=yes answering=yes pid={pid} bootstrap=127.0.0.1:{cfg.port + i}"
        for i, pid in enumerate(pids)
    ]


@pytest.mark.integration
def test_a_topic_on_three_replicas_survives_losing_a_node(
    cluster: LocalCluster, yujing: Cli, capsys: pytest.CaptureFixture[str], unique_prefix: str
) -> None:
    from kafka import KafkaAdminClient, KafkaProducer

    _start(cluster, yujing, capsys)
    bootstrap, topic = cluster.bootstrap, f"{unique_prefix}-replicated"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    try:
        replicated = {"replication_factor": 3, "configs": {"min.insync.replicas": "2"}}
        admin.create_topics({topic: {"num_partitions": 1, **replicated}}, wait_for_metadata=True)
        (partition,) = admin.describe_topics([topic])[0]["partitions"]
        assert sorted(partition["replica_nodes"]) == [0, 1, 2]
        for value in (b"one", b"two"):
            producer.send(topic, value).get(timeout=60)
        assert _consume(bootstrap, topic, f"{unique_prefix}-a", 2) == [b"one", b"two"]
        # the group's offsets are as safe: Kafka made its internal topic with three replicas
        offsets = admin.describe_topics(["__consumer_offsets"])[0]["partitions"]
        assert offsets and all(len(p["replica_nodes"]) == 3 for p in offsets)

        # SIGKILL the node that leads the partition: no controlled shutdown, no goodbye.
        leader = partition["leader_id"]
        victim = cluster.nodes[leader].process.owned_pid()
        assert victim is not None
        os.kill(victim, signal.SIGKILL)

        for value in (b"three", b"four"):  # acks=all: two replicas in sync still take it
            producer.send(topic, value).get(timeout=90)
        expected = [b"one", b"two", b"three", b"four"]
        assert _consume(bootstrap, topic, f"{unique_prefix}-b", 4) == expected

        def moved() -> bool:
            (now,) = admin.describe_topics([topic])[0]["partitions"]
            return now["leader_id"] not in (leader, -1) and len(now["isr_nodes"]) == 2

        _wait_for("a new leader and two replicas in sync", moved)
    finally:
        producer.close(timeout=10)
        admin.close()

    cfg = cluster.config
    assert yujing(*_flags(cfg.home, cfg.port, cfg.controller_port), "status") == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[leader].startswith(f"node={leader} running=no answering=no pid=-")
    assert sum("running=yes answering=yes" in line for line in lines) == 2

    # start heals: the lost node is started again, the others are kept
    before = cluster.running_pids()
    after = _start(cluster, yujing, capsys)
    assert victim not in after and set(before) < set(after) and len(after) == 3
    assert _consume(bootstrap, topic, f"{unique_prefix}-c", 4) == expected


@pytest.mark.integration
def test_a_worker_on_the_cluster_makes_its_topics_with_three_replicas_two_in_sync(
    cluster: LocalCluster,
    yujing: Cli,
    capsys: pytest.CaptureFixture[str],
    unique_prefix: str,
    tmp_path: Path,
) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    from schemas.registry import TOPICS
    from streams.dev.runner import spawn, wait_http

    _start(cluster, yujing, capsys)
    prefix, port = unique_prefix + ".", find_free_port()
    env = {
        "YUJING_KAFKA_BOOTSTRAP": cluster.bootstrap,
        "YUJING_REPLICATION_FACTOR": "3",
        "YUJING_TOPIC_PREFIX": prefix,
        "YUJING_WEB_PORT": str(port),
        "XDG_DATA_HOME": str(tmp_path / "data-home"),
    }
    worker = spawn("worker", ["worker", "--loglevel", "warning"], env, tmp_path)
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap.split(","))
    try:
        wait_http(worker, f"http://127.0.0.1:{port}/ready", timeout=120)
        names = [n for n in admin.list_topics() if n.startswith(prefix)]
        changelogs = [n for n in names if n.endswith("-changelog")]
        assert {prefix + name for name in TOPICS} <= set(names) and len(changelogs) >= 6
        for topic in admin.describe_topics(names):
            assert {len(p["replica_nodes"]) for p in topic["partitions"]} == {3}, topic
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        described = admin.describe_configs(resources)["topic"]
        assert sorted(described) == sorted(names)
        own = {  # the topic's own min.insync.replicas, not the broker's default
            name: (c["min.insync.replicas"]["value"], c["min.insync.replicas"]["config_source"])
            for name, c in described.items()
            if "min.insync.replicas" in c
        }
        # Faust's own leader-election topic (no data) keeps the broker's default, also 2
        data = [name for name in names if not name.endswith("-__assignor-__leader")]
        assert own == {name: ("2", "DYNAMIC_TOPIC_CONFIG") for name in data}
    finally:
        admin.close()
        worker.stop()


@pytest.mark.integration
def test_stop_stops_every_node(
    cluster: LocalCluster, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    pids = _start(cluster, yujing, capsys)
    cfg = cluster.config
    flags = _flags(cfg.home, cfg.port, cfg.controller_port)
    assert yujing(*flags, "stop") == 0
    assert capsys.readouterr().out.strip() == f"broker stopped (pids {', '.join(map(str, pids))})"
    assert _cluster_processes(cfg.home) == []
    assert not any(port_in_use(cfg.port + i) for i in range(3))
    assert not any(node.files.pid_path.exists() for node in cluster.nodes)
    assert yujing(*flags, "status") == 3
    assert capsys.readouterr().out.count("running=no answering=no pid=-") == 3
    assert yujing(*flags, "stop") == 0
    assert capsys.readouterr().out.strip() == f"no broker was running for {cfg.home}"
