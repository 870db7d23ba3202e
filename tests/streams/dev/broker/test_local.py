"""Tests of the local KRaft broker as a whole (streams.dev.broker.local).

The ``integration`` tests start and stop a real Kafka broker with a temporary home
and free ports (the ``real_broker`` fixture), so they never touch a developer's own
broker.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from streams.dev.broker import BrokerConfig, BrokerError, LocalBroker

Cli = Callable[..., int]  # the ``yujing`` fixture: argv -> exit code


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


def test_start_refuses_a_port_taken_by_another_process(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        broker = LocalBroker(BrokerConfig(home=tmp_path, port=port))
        with pytest.raises(BrokerError, match=f"port {port} .* already in use by another"):
            broker.start(timeout=5)


# --------------------------------------------------------------------------- real broker


@pytest.mark.integration
def test_start_twice_runs_one_broker(real_broker: LocalBroker) -> None:
    assert real_broker.start(timeout=120) == real_broker.config.bootstrap
    first = real_broker.status().pid
    assert first is not None

    # Again, and from a fresh object as a second `yujing broker start` would.
    assert real_broker.start() == real_broker.config.bootstrap
    assert LocalBroker(real_broker.config).start() == real_broker.config.bootstrap

    assert real_broker.status().pid == first
    assert _kafka_processes(real_broker) == [first]


@pytest.mark.integration
def test_status_of_a_running_broker(
    real_broker: LocalBroker, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    real_broker.start(timeout=120)
    status = real_broker.status()
    assert status.running and status.answering
    assert status.bootstrap == real_broker.config.bootstrap
    assert status.pid == int(real_broker.pid_path.read_text())

    config = real_broker.config
    code = yujing(
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
def test_produce_and_consume(real_broker: LocalBroker, unique_prefix: str) -> None:
    bootstrap = real_broker.start(timeout=120)
    topic = f"{unique_prefix}-roundtrip"
    values = [b"one", b"two", b"three"]
    asyncio.run(_produce(bootstrap, topic, values))
    assert asyncio.run(_consume(bootstrap, topic, f"{unique_prefix}-g", 3)) == values


@pytest.mark.integration
def test_data_survives_a_restart(real_broker: LocalBroker, unique_prefix: str) -> None:
    bootstrap = real_broker.start(timeout=120)
    topic = f"{unique_prefix}-durable"
    asyncio.run(_produce(bootstrap, topic, [b"kept"]))
    assert real_broker.stop() is True
    assert real_broker.start(timeout=120) == bootstrap
    assert asyncio.run(_consume(bootstrap, topic, f"{unique_prefix}-g", 1)) == [b"kept"]


@pytest.mark.integration
def test_stop(real_broker: LocalBroker) -> None:
    real_broker.start(timeout=120)
    assert real_broker.stop() is True
    status = real_broker.status()
    assert not status.running and not status.answering and status.pid is None
    assert not real_broker.pid_path.exists()
    assert not _port_open(real_broker.config.port)
    assert _kafka_processes(real_broker) == []
    assert real_broker.stop() is False


@pytest.mark.integration
@pytest.mark.usefixtures("needs_java")
def test_first_start_replaces_a_cluster_id_that_looks_like_an_option(
    tmp_path: Path, free_ports: tuple[int, int]
) -> None:
    # A cluster.id left by an older version that drew "-..." must not stop the
    # storage from being formatted: it is drawn again before the first format.
    port, controller_port = free_ports
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
