"""Tests of the local KRaft broker (streams.dev.broker.local) and its CLI.

The ``integration`` tests run a real Kafka broker with a temporary home and free
ports, so they never touch a developer's own broker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import string
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.dev.broker import (
    BrokerConfig,
    BrokerError,
    LocalBroker,
    check_java,
    find_free_port,
)
from streams.dev.broker.cli import add_broker_commands
from streams.dev.broker.local import new_cluster_id


def _two_free_ports() -> tuple[int, int]:
    first, second = find_free_port(), find_free_port()
    while second == first:
        second = find_free_port()
    return first, second


def _kafka_processes(broker: LocalBroker) -> list[int]:
    """Pids of every kafka.Kafka process running with this broker's properties file."""
    proc = Path("/proc")
    if not proc.is_dir():
        pytest.skip("needs /proc to list processes")
    wanted = str(broker.properties_path).encode()
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in argv and wanted in argv:
            pids.append(int(entry.name))
    return pids


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="yujing")
    add_broker_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


# --------------------------------------------------------------------------- no broker


def test_check_java_reports_java_home_without_java(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(BrokerError, match=r"JAVA_HOME is .* but there is no java"):
        check_java()


def test_check_java_reports_missing_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerError, match="java not found on PATH: install OpenJDK 17"):
        check_java()


def test_check_java_reports_old_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            echo 'java version "1.8.0_292"' >&2
            """
        )
    )
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(
        BrokerError, match=r"Java 17 or newer is needed to run Kafka 4.x; found 1.8.0_292"
    ):
        check_java()


def test_config_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUJING_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("YUJING_BROKER_PORT", "19092")
    monkeypatch.setenv("YUJING_BROKER_CONTROLLER_PORT", "19093")
    config = BrokerConfig.from_env()
    assert config.home == (tmp_path / "home").resolve()
    assert (config.port, config.controller_port) == (19092, 19093)
    assert config.bootstrap == "127.0.0.1:19092"

    monkeypatch.setenv("YUJING_BROKER_PORT", "kafka")
    with pytest.raises(BrokerError, match="YUJING_BROKER_PORT"):
        BrokerConfig.from_env()


def test_stop_never_kills_a_process_it_did_not_start(tmp_path: Path) -> None:
    # An unrelated live process whose command line even mentions kafka.Kafka, but
    # not this home's server.properties: a recycled pid must not be killed.
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "kafka.Kafka"]
    )
    try:
        broker = LocalBroker(BrokerConfig(home=tmp_path, port=find_free_port()))
        for pid in (bystander.pid, os.getpid()):
            broker.dir.mkdir(parents=True, exist_ok=True)
            broker.pid_path.write_text(f"{pid}\n")
            assert broker.stop(timeout=1) is False
            assert not broker.pid_path.exists()
            assert broker.status().running is False
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_start_refuses_a_port_taken_by_another_process(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        broker = LocalBroker(BrokerConfig(home=tmp_path, port=port))
        with pytest.raises(BrokerError, match=f"port {port} .* already in use by another"):
            broker.start(timeout=5)


def test_install_without_mvn_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUJING_KAFKA_LIBS", str(tmp_path / "libs"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerError, match=r"mvn \(Apache Maven\) not found on PATH"):
        LocalBroker(BrokerConfig(home=tmp_path)).install()


def test_cli_status_of_a_stopped_broker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port, controller_port = _two_free_ports()
    code = _cli(
        "broker",
        "--home",
        str(tmp_path),
        "--port",
        str(port),
        "--controller-port",
        str(controller_port),
        "status",
    )
    assert code == 3
    assert capsys.readouterr().out.strip() == (
        f"running=no answering=no pid=- bootstrap=127.0.0.1:{port}"
    )


def test_cli_errors_go_to_stderr_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        code = _cli("broker", "--home", str(tmp_path), "--port", str(port), "start")
    assert code == 2
    assert capsys.readouterr().err.startswith(f"yujing broker: port {port} ")


@given(st.binary(min_size=16, max_size=16))
def test_cluster_ids_never_look_like_an_option(token: bytes) -> None:
    # Kafka's storage tool parses its arguments: an id starting with "-" is read as
    # an option and the first start fails ("--cluster-id/-t: expected one argument").
    cluster_id = new_cluster_id(token)
    assert not cluster_id.startswith("-")
    assert len(cluster_id) == 22
    assert set(cluster_id) <= set(string.ascii_letters + string.digits + "-_")


# --------------------------------------------------------------------------- real broker


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A LocalBroker with its own home and ports (not started); stopped afterwards."""
    try:
        check_java()
    except BrokerError as exc:
        pytest.skip(f"no usable Java for the local broker: {exc}")
    port, controller_port = _two_free_ports()
    local = LocalBroker(
        BrokerConfig(
            home=tmp_path_factory.mktemp("broker-home"),
            port=port,
            controller_port=controller_port,
        )
    )
    try:
        yield local
    finally:
        local.stop()


@pytest.mark.integration
def test_start_twice_runs_one_broker(broker: LocalBroker) -> None:
    assert broker.start(timeout=120) == broker.config.bootstrap
    first = broker.status().pid
    assert first is not None

    # Again, and from a fresh object as a second `yujing broker start` would.
    assert broker.start() == broker.config.bootstrap
    assert LocalBroker(broker.config).start() == broker.config.bootstrap

    assert broker.status().pid == first
    assert _kafka_processes(broker) == [first]


@pytest.mark.integration
def test_status_of_a_running_broker(
    broker: LocalBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    broker.start(timeout=120)
    status = broker.status()
    assert status.running and status.answering
    assert status.bootstrap == broker.config.bootstrap
    assert status.pid == int(broker.pid_path.read_text())

    config = broker.config
    code = _cli(
        "broker",
        "--home",
        str(config.home),
        "--port",
        str(config.port),
        "--controller-port",
        str(config.controller_port),
        "status",
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == (
        f"running=yes answering=yes pid={status.pid} bootstrap={config.bootstrap}"
    )


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, group: str, count: int) -> list[bytes]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        received: list[bytes] = []
        while len(received) < count:
            message = await asyncio.wait_for(consumer.getone(), 60)
            assert message.value is not None
            received.append(message.value)
        return received
    finally:
        await consumer.stop()


@pytest.mark.integration
def test_produce_and_consume(broker: LocalBroker, unique_prefix: str) -> None:
    bootstrap = broker.start(timeout=120)
    topic = f"{unique_prefix}-roundtrip"
    values = [b"one", b"two", b"three"]
    asyncio.run(_produce(bootstrap, topic, values))
    assert asyncio.run(_consume(bootstrap, topic, f"{unique_prefix}-g", 3)) == values


@pytest.mark.integration
def test_data_survives_a_restart(broker: LocalBroker, unique_prefix: str) -> None:
    bootstrap = broker.start(timeout=120)
    topic = f"{unique_prefix}-durable"
    asyncio.run(_produce(bootstrap, topic, [b"kept"]))
    assert broker.stop() is True
    assert broker.start(timeout=120) == bootstrap
    assert asyncio.run(_consume(bootstrap, topic, f"{unique_prefix}-g", 1)) == [b"kept"]


@pytest.mark.integration
def test_stop(broker: LocalBroker) -> None:
    broker.start(timeout=120)
    assert broker.stop() is True
    status = broker.status()
    assert not status.running and not status.answering and status.pid is None
    assert not broker.pid_path.exists()
    assert not _port_open(broker.config.port)
    assert _kafka_processes(broker) == []
    assert broker.stop() is False


@pytest.mark.integration
def test_first_start_replaces_a_cluster_id_that_looks_like_an_option(
    tmp_path: Path,
) -> None:
    # A cluster.id left by an older version that drew "-..." must not stop the
    # storage from being formatted: it is drawn again before the first format.
    try:
        check_java()
    except BrokerError as exc:
        pytest.skip(f"no usable Java for the local broker: {exc}")
    port, controller_port = _two_free_ports()
    local = LocalBroker(BrokerConfig(home=tmp_path, port=port, controller_port=controller_port))
    local.dir.mkdir(parents=True, exist_ok=True)
    local.cluster_id_path.write_text("-wAAAAAAAAAAAAAAAAAAAA\n", "utf-8")
    try:
        assert local.start(timeout=120) == local.config.bootstrap
        cluster_id = local.cluster_id_path.read_text("utf-8").strip()
        assert not cluster_id.startswith("-")
        meta = (local.data_dir / "meta.properties").read_text("utf-8")
        assert f"cluster.id={cluster_id}" in meta
    finally:
        local.stop()
