"""``yujing broker start --secure`` on a real broker: who gets in, and what each user may do.

One secure broker for the whole module (its own home, free ports; stopped at the end),
probed with kafka-python as the pipeline's clients would be, each user logging in
with the lines of its own ``<home>/secrets/<user>.env``:

* refused: an anonymous PLAINTEXT client, a wrong password, a client that does not
  trust the broker's CA; each within seconds, and each client closed;
* the ACLs: the worker creates the project's topics (and nothing else), ``tools`` writes
  an input but may not delete a topic, ``downstream`` may not write an input nor read
  the notifications but reads the alerts with a group of its own;
* ``status`` logs in as admin; ACLs no longer in the plan go at the next start; a
  restart keeps the CA, the broker's certificate and every password.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from secure_broker import secure_broker

from schemas.registry import ALERTS, NOTIFICATIONS, READINGS, TOPICS
from streams.dev.broker import LocalBroker
from streams.dev.broker.acl_admin import current_grants, sync_acls
from streams.dev.broker.acls import Grant, Naming, acl_plan

pytestmark = pytest.mark.integration

Cli = Callable[..., int]
#: small timeouts: a refused client gives up within seconds
QUICK = {"request_timeout_ms": 3000, "bootstrap_timeout_ms": 3000, "reconnect_backoff_max_ms": 500}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    with secure_broker(tmp_path_factory.mktemp("secure-home"), Naming()) as local:
        yield local


def _secrets(broker: LocalBroker, user: str) -> dict[str, str]:
    text = (broker.secrets_dir / f"{user}.env").read_text("utf-8")
    return dict(line.split("=", 1) for line in text.splitlines())


def _options(broker: LocalBroker, user: str) -> dict[str, Any]:
    """A kafka-python client's settings, from nothing but the user's credentials file."""
    env = _secrets(broker, user)
    return {
        "bootstrap_servers": env["YUJING_KAFKA_BOOTSTRAP"],
        "security_protocol": env["YUJING_KAFKA_SECURITY_PROTOCOL"],
        "sasl_mechanism": env["YUJING_KAFKA_SASL_MECHANISM"],
        "sasl_plain_username": env["YUJING_KAFKA_SASL_USERNAME"],
        "sasl_plain_password": env["YUJING_KAFKA_SASL_PASSWORD"],
        "ssl_cafile": env["YUJING_KAFKA_SSL_CAFILE"],
    }


@contextlib.contextmanager
def _client(kind: str, options: dict[str, Any]) -> Iterator[Any]:
    import kafka

    client = getattr(kafka, kind)(**options)
    try:
        yield client
    finally:
        if kind == "KafkaProducer":
            client.close(timeout=5)
        else:
            client.close()


def _refused(options: dict[str, Any]) -> None:
    """A client with ``options`` cannot even list the topics, and says so within seconds."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    began = time.monotonic()
    with pytest.raises(KafkaError):  # the client, if made, is closed
        admin = KafkaAdminClient(**QUICK, **options)
        try:
            admin.list_topics()
        finally:
            admin.close()
    assert time.monotonic() - began < 15


@pytest.fixture(scope="module")
def project_topics(broker: LocalBroker) -> dict[str, int]:
    """Every registry topic, created by the worker: error code by topic name."""
    from kafka.admin import NewTopic

    with _client("KafkaAdminClient", _options(broker, "worker")) as admin:
        result = admin.create_topics([NewTopic(n, 1, 1) for n in TOPICS], raise_errors=False)
    return {t["name"]: t["error_code"] for t in result["topics"]}


def test_the_worker_creates_the_projects_topics_and_no_other(
    broker: LocalBroker, project_topics: dict[str, int]
) -> None:
    from kafka.admin import NewTopic

    assert project_topics == dict.fromkeys(TOPICS, 0)
    with _client("KafkaAdminClient", _options(broker, "worker")) as admin:
        assert set(TOPICS) <= set(admin.list_topics())
        result = admin.create_topics(
            [NewTopic("yujing-table-changelog", 1, 1), NewTopic("not.the.project", 1, 1)],
            raise_errors=False,
        )
    codes = {t["name"]: t["error_code"] for t in result["topics"]}
    assert codes == {"yujing-table-changelog": 0, "not.the.project": 29}  # 29: not authorised


def test_an_anonymous_plaintext_client_is_refused(broker: LocalBroker) -> None:
    _refused({"bootstrap_servers": broker.config.bootstrap})


def test_a_wrong_password_is_refused(broker: LocalBroker) -> None:
    log = broker.server_log_path
    before = log.read_text("utf-8").count("invalid credentials")
    _refused({**_options(broker, "tools"), "sasl_plain_password": "not-the-password"})
    deadline = time.monotonic() + 10  # the broker says why
    while log.read_text("utf-8").count("invalid credentials") == before:
        assert time.monotonic() < deadline, "the broker logged no failed login"
        time.sleep(0.2)


def test_a_client_that_does_not_trust_the_ca_is_refused(
    broker: LocalBroker, caplog: pytest.LogCaptureFixture
) -> None:
    options = _options(broker, "tools")
    del options["ssl_cafile"]  # the system's CAs only
    with caplog.at_level(logging.ERROR, logger="kafka"):
        _refused(options)
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


def _produce(options: dict[str, Any], topic: str) -> None:
    with _client("KafkaProducer", {**options, "max_block_ms": 10000}) as producer:
        producer.send(topic, b"{}").get(timeout=15)


@pytest.mark.usefixtures("project_topics")
def test_downstream_may_not_write_an_input_nor_read_the_notifications(
    broker: LocalBroker,
) -> None:
    from kafka import TopicPartition
    from kafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError

    downstream = _options(broker, "downstream")
    with pytest.raises(TopicAuthorizationFailedError):
        _produce(downstream, READINGS.name)
    with (
        _client("KafkaConsumer", downstream) as consumer,
        pytest.raises(TopicAuthorizationFailedError),
    ):
        consumer.beginning_offsets([TopicPartition(NOTIFICATIONS.name, 0)])
    with (
        _client("KafkaConsumer", {**downstream, "group_id": "not-downstream"}) as consumer,
        pytest.raises(GroupAuthorizationFailedError),
    ):
        consumer.subscribe([ALERTS.name])
        consumer.poll(timeout_ms=10000)


@pytest.mark.usefixtures("project_topics")
def test_downstream_reads_the_alerts_with_a_group_of_its_own(broker: LocalBroker) -> None:
    _produce(_options(broker, "worker"), ALERTS.name)
    options = {
        **_options(broker, "downstream"),
        "group_id": "downstream-test",
        "auto_offset_reset": "earliest",
    }
    with _client("KafkaConsumer", options) as consumer:
        consumer.subscribe([ALERTS.name])
        deadline = time.monotonic() + 30
        records: list[Any] = []
        while not records:
            assert time.monotonic() < deadline, "downstream read no alert"
            records = [r for batch in consumer.poll(timeout_ms=1000).values() for r in batch]


@pytest.mark.usefixtures("project_topics")
def test_tools_write_an_input_but_may_not_delete_a_topic(broker: LocalBroker) -> None:
    tools = _options(broker, "tools")
    _produce(tools, READINGS.name)
    with _client("KafkaAdminClient", tools) as admin:
        result = admin.delete_topics([READINGS.name], raise_errors=False)
        assert [t["error_code"] for t in result["topics"]] == [29]
        assert READINGS.name in admin.list_topics()


def test_status_logs_in_as_admin_and_a_plain_start_is_refused(
    broker: LocalBroker, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    config = broker.config
    flags = ["broker", "--home", str(config.home), "--port", str(config.port)]
    flags += ["--controller-port", str(config.controller_port)]
    assert yujing(*flags, "status") == 0
    assert "running=yes answering=yes" in capsys.readouterr().out
    assert yujing(*flags, "start") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "set up secure: start it with --secure" in err


def test_acls_no_longer_planned_go_at_the_next_start(broker: LocalBroker) -> None:
    login = broker.secure.login("admin")
    stale = Grant("tools", "TOPIC", NOTIFICATIONS.name, "LITERAL", "WRITE")
    sync_acls(broker.config.bootstrap, login, [*acl_plan(Naming()), stale])
    options = {"bootstrap_servers": broker.config.bootstrap, **login.kafka_python_options()}
    with _client("KafkaAdminClient", options) as admin:
        assert stale in current_grants(admin)
    broker.start(timeout=60, secure=True, naming=Naming())  # it runs: the ACLs are synced
    with _client("KafkaAdminClient", options) as admin:
        assert current_grants(admin) == set(acl_plan(Naming()))


def test_a_restart_keeps_the_certificates_and_the_passwords(broker: LocalBroker) -> None:
    kept = {p: p.read_bytes() for p in sorted(broker.secure.dir.iterdir())}
    secrets = {p: p.read_bytes() for p in sorted(broker.secrets_dir.iterdir())}
    assert broker.stop() is True
    broker.start(timeout=120, secure=True, naming=Naming())
    assert {p: p.read_bytes() for p in sorted(broker.secure.dir.iterdir())} == kept
    assert {p: p.read_bytes() for p in sorted(broker.secrets_dir.iterdir())} == secrets
    _produce(_options(broker, "tools"), READINGS.name)
    assert Path(_secrets(broker, "tools")["YUJING_KAFKA_SSL_CAFILE"]).is_absolute()
