"""Fixtures shared by all tests: a Kafka broker for integration tests, unique names.

``kafka_bootstrap`` picks its broker in this order:

1. ``YUJING_KAFKA_BOOTSTRAP`` ("host:port"), used as it is;
2. a throw-away ``apache/kafka`` container via testcontainers, if a Docker engine
   answers (not merely a docker CLI on PATH);
3. otherwise the local KRaft broker of :mod:`streams.dev.broker` (Java 17+ and Maven),
   with a temporary home and free ports, stopped at the end of the session.

The choice is shown in pytest's header ("kafka for integration tests: ...").
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest

from streams.dev.broker import (
    KAFKA_VERSION,
    BrokerConfig,
    BrokerError,
    LocalBroker,
    broker_answers,
    find_free_port,
)

BOOTSTRAP_ENV = "YUJING_KAFKA_BOOTSTRAP"
KAFKA_IMAGE = f"apache/kafka:{KAFKA_VERSION}"

_docker_state: dict[str, bool] = {}


def _docker_engine_answers() -> bool:
    """True if a Docker engine answers a ping (checked once per session, quickly)."""
    if "answers" not in _docker_state:
        try:
            import docker

            client = docker.from_env(timeout=3)
            try:
                client.ping()
            finally:
                client.close()
            _docker_state["answers"] = True
        except Exception:
            _docker_state["answers"] = False
    return _docker_state["answers"]


def _kafka_source() -> str:
    if os.environ.get(BOOTSTRAP_ENV, "").strip():
        return "env"
    if _docker_engine_answers():
        return "docker"
    return "local"


def pytest_report_header(config: pytest.Config) -> str:
    source = _kafka_source()
    if source == "env":
        return f"kafka for integration tests: {BOOTSTRAP_ENV}={os.environ[BOOTSTRAP_ENV]}"
    if source == "docker":
        return f"kafka for integration tests: testcontainers {KAFKA_IMAGE} (docker engine answers)"
    return (
        f"kafka for integration tests: local KRaft broker {KAFKA_VERSION} from streams.dev.broker "
        f"(no {BOOTSTRAP_ENV}, no docker engine answering)"
    )


def _two_free_ports() -> tuple[int, int]:
    first = find_free_port()
    second = find_free_port()
    while second == first:
        second = find_free_port()
    return first, second


def _wait_until_answering(bootstrap: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not broker_answers(bootstrap, timeout=5.0):
        if time.monotonic() > deadline:
            pytest.fail(f"Kafka at {bootstrap} did not answer within {timeout:.0f} s")
        time.sleep(0.5)


def _kafka_in_docker() -> Iterator[str]:
    # testcontainers' KafkaContainer drives Confluent's cp-kafka start scripts, which
    # the apache/kafka image does not have; a generic container configured through
    # the image's KAFKA_* variables does the same job.
    from testcontainers.core.container import DockerContainer

    host_port = find_free_port()
    container = DockerContainer(KAFKA_IMAGE)
    host = container.get_docker_client().host()
    settings = {
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://0.0.0.0:9092,CONTROLLER://localhost:9093",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{host}:{host_port}",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS": "4",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_NUM_PARTITIONS": "1",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "true",
    }
    for key, value in settings.items():
        container.with_env(key, value)
    container.with_bind_ports(9092, host_port)
    container.start()
    try:
        bootstrap = f"{host}:{host_port}"
        _wait_until_answering(bootstrap, timeout=120)
        yield bootstrap
    finally:
        container.stop()


def _kafka_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port, controller_port = _two_free_ports()
    broker = LocalBroker(
        BrokerConfig(
            home=tmp_path_factory.mktemp("yujing-home"),
            port=port,
            controller_port=controller_port,
        )
    )
    try:
        bootstrap = broker.start(timeout=120)
    except BrokerError as exc:
        broker.stop()
        pytest.fail(
            "no Kafka for integration tests: set YUJING_KAFKA_BOOTSTRAP, start a Docker "
            "engine, or fix the local broker (or deselect with -m 'not integration'):\n"
            f"{exc}",
            pytrace=False,
        )
    try:
        yield bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address ("host:port") of a Kafka broker for the whole session."""
    source = _kafka_source()
    if source == "env":
        yield os.environ[BOOTSTRAP_ENV].strip()
    elif source == "docker":
        yield from _kafka_in_docker()
    else:
        yield from _kafka_local(tmp_path_factory)


@pytest.fixture
def unique_prefix() -> str:
    """A fresh name prefix (``t`` + 8 hex digits) for topics and consumer groups."""
    return f"t{uuid.uuid4().hex[:8]}"
