"""End to end on ``yujing broker start --secure``: the pipeline runs as its own users.

A secure local broker of its own (SASL_SSL, SCRAM, ACLs; free ports, a home in the
test's folder, stopped at the end). The worker logs in as ``worker`` with nothing
but ``YUJING_ENV_FILE=<home>/secrets/worker.env``; the test's own clients (the
topics, the reading, reading the outputs) as ``tools``, and ``downstream`` reads the
alerts it may read. One gas reading over its limit goes reading → signal → alert →
order → SMS, as it does on a plain broker, and no topic holds a phone number; then
``yujing demo --secure`` (``make demo SECURE=1``) runs on the same broker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from phones import in_clear, known_numbers
from secure_broker import secure_broker
from support import Stack, make_stack, wait_for

from schemas import Alert, DispatchOrder, NotificationReceipt, SensorReading
from schemas.codec import decode
from schemas.registry import ALERTS, DISPATCH_ORDERS, NOTIFICATIONS, RECEIPTS, TOPICS
from streams.core.shared.regions import load_regions
from streams.dev.broker import LocalBroker, find_free_port
from streams.dev.broker.acls import Naming
from streams.dev.runner import get_json
from streams.runtime.kafka_io import read_topic
from streams.runtime.kafka_security import KafkaSecurity
from streams.runtime.settings import Settings

pytestmark = pytest.mark.integration

PREFIX = "sec."
APP_ID = "yujing-sec"  # make_stack's app id for PREFIX


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    naming = Naming(topic_prefix=PREFIX, app_id=APP_ID)
    with secure_broker(tmp_path_factory.mktemp("secure-e2e"), naming) as local:
        yield local


def login(broker: LocalBroker, user: str) -> tuple[Settings, Path]:
    """A user's settings from nothing but its credentials file, and the file."""
    env_file = broker.secrets_dir / f"{user}.env"
    return Settings.from_env({"YUJING_ENV_FILE": str(env_file)}), env_file


def read(bootstrap: str, topic: str, security: KafkaSecurity, n: int) -> list[bytes]:
    records = read_topic(bootstrap, PREFIX + topic, min_count=n, timeout_s=60, security=security)
    return [r.value for r in records]


def test_a_reading_becomes_an_sms_with_the_worker_and_tools_users(
    broker: LocalBroker, tmp_path: Path
) -> None:
    tools, _ = login(broker, "tools")
    worker, worker_env = login(broker, "worker")
    downstream, _ = login(broker, "downstream")
    assert (tools.kafka_sasl_username, worker.kafka_sasl_username) == ("tools", "worker")
    bootstrap = worker.kafka_bootstrap
    assert bootstrap == tools.kafka_bootstrap

    stack: Stack = make_stack(
        bootstrap,
        PREFIX,
        tmp_path,
        env={"YUJING_ENV_FILE": str(worker_env), "YUJING_CLOCK_SPEED": "1"},
    )
    stack.security = tools.kafka_security  # the topics and the reading, as tools
    assert stack.env["YUJING_APP_ID"] == APP_ID
    try:
        stack.start()
        stack.produce(
            SensorReading(
                reading_id="gas-sec-1",
                sensor_id="gas-sec",
                sensor_kind="gas_lel",
                place_id="site.test.kitchen",
                value=30.0,
                unit="%LEL",
                event_time=datetime.now(UTC),
            )
        )

        def sms() -> list[dict[str, object]]:
            return list(get_json(f"{stack.sms}/v1/messages")[1]["messages"])

        [message] = wait_for(sms, timeout=120, what="the SMS of the reading")
        assert "site.test.kitchen" in str(message["text"])
        [receipt] = [
            decode(NotificationReceipt, v)
            for v in read(bootstrap, RECEIPTS.name, tools.kafka_security, 1)
        ]
        assert receipt.status.value == "delivered"
        [order] = [
            decode(DispatchOrder, v)
            for v in read(bootstrap, DISPATCH_ORDERS.name, downstream.kafka_security, 1)
        ]
        [alert] = [
            decode(Alert, v) for v in read(bootstrap, ALERTS.name, downstream.kafka_security, 1)
        ]
        assert order.alert_id == alert.alert_id and receipt.order_id == order.order_id
        # the notification names its receiver; the number went to the provider only
        notifications = read(bootstrap, NOTIFICATIONS.name, tools.kafka_security, 1)
        known = known_numbers(load_regions())
        for name in TOPICS:
            for value in read(bootstrap, name, tools.kafka_security, 0):
                assert not list(in_clear(value, known)), name
        assert notifications
    finally:
        stack.stop()


def test_the_demo_runs_secured_with_one_flag(broker: LocalBroker, tmp_path: Path) -> None:
    """``make demo SECURE=1`` is ``yujing demo --secure``: here on this module's broker (its
    home and ports), which the demo finds running and grants its run's topics on (so this
    test comes after the one above, whose grants it replaces)."""
    cfg = broker.config
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUJING_")}
    env.update(
        {
            "YUJING_HOME": str(cfg.home),
            "YUJING_BROKER_PORT": str(cfg.port),
            "YUJING_BROKER_CONTROLLER_PORT": str(cfg.controller_port),
            "XDG_DATA_HOME": str(tmp_path / "data-home"),
        }
    )
    ports = [str(find_free_port()) for _ in range(3)]
    args = ["demo", "--secure", "--sms-port", ports[0], "--voice-port", ports[1]]
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", *args, "--web-port", ports[2]],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "the worker logs in as 'worker', the demo as 'tools'" in out
    assert "✓ demo complete" in out
    assert "Traceback" not in out
    assert not list(in_clear(out.encode(), known_numbers(load_regions())))  # masked only
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "$(BIN)/yujing demo$(if $(SECURE), --secure)" in makefile
