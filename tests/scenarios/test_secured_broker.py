"""Against a secured broker (SASL_SSL): every kind of client logs in with the settings,
and a wrong password, an untrusted CA or a client without security is one line.

Needs a SASL_SSL broker and its env file (``YUJING_KAFKA_BOOTSTRAP``,
``YUJING_KAFKA_SECURITY_PROTOCOL=SASL_SSL``, ``YUJING_KAFKA_SASL_*``,
``YUJING_KAFKA_SSL_CAFILE``; what ``yujing broker start --secure`` writes to
``$YUJING_HOME/secrets/<user>.env``) named by ``YUJING_TEST_SECURED_ENV_FILE``, or by
``YUJING_ENV_FILE`` when the whole suite runs against that broker; otherwise the module
starts a ``--secure`` local broker of its own (free ports; stopped at the end) and logs
in as its ``admin``, whose grants cover the tests' own topic prefixes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from pki import make_ca
from secure_broker import secure_broker

from schemas.codec import decode
from schemas.reading import SensorReading
from schemas.registry import READINGS
from streams.dev.broker import find_free_port
from streams.dev.runner import spawn, wait_http
from streams.runtime.kafka_io import Producer, ensure_topics, read_topic
from streams.runtime.kafka_security import PLAINTEXT
from streams.runtime.reach import BrokerRefused, require_broker
from streams.runtime.settings import Settings

pytestmark = pytest.mark.integration

#: A person waits this long at most before the tool says what is wrong.
SAY_WITHIN_S = 10.0


def _secured_env_file() -> Path | None:
    name = os.environ.get("YUJING_TEST_SECURED_ENV_FILE") or os.environ.get("YUJING_ENV_FILE")
    if not name:
        return None
    security = Settings.from_env({"YUJING_ENV_FILE": name}).kafka_security
    return Path(name) if security.protocol == "SASL_SSL" else None


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The secured broker's env file: the one named, else one of a broker of our own."""
    given = _secured_env_file()
    if given is not None:
        yield given
        return
    with secure_broker(tmp_path_factory.mktemp("secured-broker")) as local:
        yield local.secrets_dir / "admin.env"


@pytest.fixture
def settings(env_file: Path) -> Settings:
    return Settings.from_env({"YUJING_ENV_FILE": str(env_file)})


def _reading(i: int) -> SensorReading:
    return SensorReading(
        reading_id=f"secured-{i}",
        sensor_id=f"gas-{i:04d}",
        sensor_kind="gas_lel",
        place_id="cell-0001",
        value=float(i),
        unit="%LEL",
        event_time=datetime.now(UTC),
    )


def test_every_client_logs_in_with_the_settings(settings: Settings) -> None:
    bootstrap, security = settings.kafka_bootstrap, settings.kafka_security
    prefix = f"secured-{uuid.uuid4().hex[:8]}."
    require_broker(bootstrap, security=security)
    assert ensure_topics(bootstrap, prefix, partitions=2, security=security)  # admin
    producer = Producer(bootstrap, prefix, security=security)  # kafka-python
    producer.send_all(_reading(i) for i in range(5))
    producer.close()
    topic = prefix + READINGS.name
    read = read_topic(bootstrap, topic, min_count=5, security=security)
    assert sorted(decode(SensorReading, r.value).sensor_id for r in read) == [
        f"gas-{i:04d}" for i in range(5)
    ]

    async def with_aiokafka() -> int:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=None, **security.aiokafka()
        )
        await consumer.start()
        try:
            parts = [TopicPartition(topic, p) for p in (0, 1)]
            return sum((await consumer.end_offsets(parts)).values())
        finally:
            await consumer.stop()

    assert asyncio.run(with_aiokafka()) == 5
    with pytest.raises(BrokerRefused, match="closed the connection at once"):
        require_broker(bootstrap, security=PLAINTEXT)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, float]:
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
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return proc.returncode, lines[0], time.monotonic() - started


@pytest.mark.parametrize("command", [["tail", "alerts", "--timeout", "1"], ["worker"]])
def test_a_wrong_password_is_one_line(
    settings: Settings, env_file: Path, command: list[str], tmp_path: Path
) -> None:
    env = {"YUJING_ENV_FILE": str(env_file), "YUJING_KAFKA_SASL_PASSWORD": "not-the-password"}
    rc, line, took = _run(command, env, tmp_path)
    assert (rc, took < SAY_WITHIN_S) == (3, True), line
    assert line == (
        f"yujing {command[0]}: broker at {settings.kafka_bootstrap} refused this client: "
        f"the login of {settings.kafka_sasl_username!r} (SCRAM-SHA-512) failed: a wrong "
        "YUJING_KAFKA_SASL_USERNAME or YUJING_KAFKA_SASL_PASSWORD?"
    )


def test_an_untrusted_broker_certificate_is_one_line(
    settings: Settings, env_file: Path, tmp_path: Path
) -> None:
    other = make_ca(tmp_path / "other-ca")
    env = {"YUJING_ENV_FILE": str(env_file), "YUJING_KAFKA_SSL_CAFILE": str(other.cert)}
    rc, line, took = _run(["report"], env, tmp_path)
    assert (rc, took < SAY_WITHIN_S) == (3, True), line
    assert line.startswith(
        f"yujing report: broker at {settings.kafka_bootstrap} refused this client: "
        "its certificate is not trusted: "
    )
    assert line.endswith("(YUJING_KAFKA_SSL_CAFILE)")


def test_a_client_without_security_is_one_line(settings: Settings, tmp_path: Path) -> None:
    rc, line, took = _run(
        ["tail", "orders"], {"YUJING_KAFKA_BOOTSTRAP": settings.kafka_bootstrap}, tmp_path
    )
    assert (rc, took < SAY_WITHIN_S) == (3, True), line
    assert line.endswith(
        "it closed the connection at once: does it speak YUJING_KAFKA_SECURITY_PROTOCOL=PLAINTEXT?"
    )


def test_the_worker_logs_in_and_gets_ready(
    settings: Settings, env_file: Path, tmp_path: Path
) -> None:
    port, run = find_free_port(), uuid.uuid4().hex[:8]
    env = {
        "YUJING_ENV_FILE": str(env_file),
        "YUJING_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,  # over the suite's own broker
        "YUJING_TOPIC_PREFIX": f"secured-{run}.",
        "YUJING_WEB_PORT": str(port),
        "YUJING_DATA_DIR": str(tmp_path / "worker"),
    }
    worker = spawn("worker", ["worker", "--loglevel", "warning"], env, tmp_path)
    try:
        wait_http(worker, f"http://127.0.0.1:{port}/ready", timeout=120)
    finally:
        worker.stop()
    log = (tmp_path / "worker.log").read_text()
    assert f"broker {settings.kafka_bootstrap} (SASL_SSL, SCRAM-SHA-512 as " in log
    assert settings.kafka_security.password.get_secret_value() not in log
