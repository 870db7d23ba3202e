"""End to end on ``yujing broker start --secure``: the pipeline runs as its own users.

A secure local broker of its own (SASL_SSL, SCRAM, ACLs; free ports, a home in the
test's folder, stopped at the end). The worker logs in as ``worker`` with nothing
but ``YUJING_ENV_FILE=<home>/secrets/worker.env``; the test's own clients (the
topics, the reading, reading the outputs) as ``tools``, and ``downstream`` reads the
alerts it may read. One gas reading over its limit goes reading → signal → alert →
order → SMS, as it does on a plain broker, and no topic holds a phone number.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from phones import in_clear, known_numbers
from support import Stack, make_stack, wait_for

from schemas import Alert, DispatchOrder, NotificationReceipt, SensorReading
from schemas.codec import decode
from schemas.registry import ALERTS, DISPATCH_ORDERS, NOTIFICATIONS, RECEIPTS, TOPICS
from streams.core.shared.regions import load_regions
from streams.dev.broker import BrokerConfig, BrokerError, LocalBroker, check_java, find_free_port
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
    try:
        check_java()
    except BrokerError as exc:
        pytest.skip(f"no usable Java for the local broker: {exc}")
    local = LocalBroker(
        BrokerConfig(
            home=tmp_path_factory.mktemp("secure-e2e"),
            port=find_free_port(),
            controller_port=find_free_port(),
        )
    )
    try:
        local.start(timeout=120, secure=True, naming=Naming(topic_prefix=PREFIX, app_id=APP_ID))
        yield local
    finally:
        local.stop()


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
