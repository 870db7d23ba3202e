"""End to end on a real broker: reading → signal → alert → order → notification → SMS stub.

The worker and the SMS stub run as real processes (``yujing worker``,
``yujing sinks``); Kafka is real (see tests/conftest.py for which broker).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support import Stack, read_all, wait_for

from schemas import Alert, DeadLetter, DispatchOrder, NotificationReceipt, RiskSignal, SensorReading
from schemas.codec import decode, encode
from schemas.registry import (
    ALERTS,
    DEAD_LETTERS,
    DISPATCH_ORDERS,
    READINGS,
    RECEIPTS,
    SIGNALS,
)
from streams.dev.runner import get_json
from streams.runtime.kafka_io import Producer

pytestmark = pytest.mark.integration

SENSOR = "gas-e2e-1"


def reading(i: int, value: float) -> SensorReading:
    return SensorReading(
        reading_id=f"{SENSOR}-{i}",
        sensor_id=SENSOR,
        sensor_kind="gas_lel",
        place_id="site.test.kitchen",
        value=value,
        unit="%LEL",
        event_time=datetime(2026, 11, 27, 8, 0, i, tzinfo=UTC),
    )


@pytest.fixture()
def running(make_stack_env: Callable[..., Stack]) -> dict[str, Any]:
    stack = make_stack_env(YUJING_MAX_MESSAGE_BYTES="4096")
    return {"prefix": stack.prefix, "sms": stack.sms, "web": stack.web, "stack": stack}


def sms_messages(base: str) -> list[dict[str, Any]]:
    status, body = get_json(f"{base}/v1/messages")
    assert status == 200
    return list(body["messages"])


def test_one_reading_over_threshold_gives_one_sms_and_bad_input_is_dead_lettered(
    kafka_bootstrap: str, running: dict
) -> None:
    prefix = running["prefix"]
    key = SENSOR.encode()
    not_json = b'{"sensor_id": "gas-e2e-1", "value": 3'
    wrong_types = encode(reading(0, 1.0)).replace(b'"value":1.0', b'"value":"high"')
    assert wrong_types != encode(reading(0, 1.0))
    too_large = b'{"pad": "' + b"x" * 5000 + b'"}'
    wrong_key = encode(reading(1, 2.0))

    producer = Producer(kafka_bootstrap, prefix)
    # Bad messages first, on the same key (so the same partition) as the good one:
    # the good message after them must still go through.
    producer.send_raw(READINGS.name, not_json, key=key)
    producer.send_raw(READINGS.name, wrong_types, key=key)
    producer.send_raw(READINGS.name, too_large, key=key)
    producer.send_raw(READINGS.name, wrong_key, key=b"someone-else")
    producer.send(reading(2, 3.0))  # below threshold: no signal
    producer.send(reading(3, 26.0))  # over threshold (20 %LEL): one signal
    producer.send(reading(4, 27.0))  # still over: hysteresis keeps it quiet
    producer.flush()
    producer.close()

    messages = wait_for(lambda: sms_messages(running["sms"]), what="an SMS delivery")
    running["stack"].settle()  # lag 0 with nothing in flight: a duplicate would be here now
    messages = sms_messages(running["sms"])
    assert len(messages) == 1, messages
    assert "site.test.kitchen" in messages[0]["text"]
    assert messages[0]["to"].count("*") >= 6, "the stub stores masked numbers only"

    signals = [
        decode(RiskSignal, r.value) for r in read_all(kafka_bootstrap, prefix + SIGNALS.name)
    ]
    assert [s.source_event_ids for s in signals] == [[f"{SENSOR}-3"]]
    assert signals[0].score == 0.8 and signals[0].threshold == 0.5
    assert signals[0].indicators == {"value": 26.0, "upper": 20.0, "clear": 10.0}
    alerts = [decode(Alert, r.value) for r in read_all(kafka_bootstrap, prefix + ALERTS.name)]
    assert [a.signal_ids for a in alerts] == [[signals[0].signal_id]]
    orders = [
        decode(DispatchOrder, r.value)
        for r in read_all(kafka_bootstrap, prefix + DISPATCH_ORDERS.name)
    ]
    assert [o.alert_id for o in orders] == [alerts[0].alert_id]
    assert orders[0].sla_class.value == "emergency"
    receipts = [
        decode(NotificationReceipt, r.value)
        for r in read_all(kafka_bootstrap, prefix + RECEIPTS.name)
    ]
    assert [(r.order_id, r.status.value) for r in receipts] == [(orders[0].order_id, "delivered")]
    assert receipts[0].provider_message_id == messages[0]["message_id"]

    dead = [
        decode(DeadLetter, r.value) for r in read_all(kafka_bootstrap, prefix + DEAD_LETTERS.name)
    ]
    by_reason = {d.reason.value: d for d in dead}
    assert sorted(by_reason) == ["not_json", "schema", "too_large", "wrong_key"], dead
    assert len(dead) == 4
    for d, original in [
        (by_reason["not_json"], not_json),
        (by_reason["schema"], wrong_types),
        (by_reason["too_large"], too_large),
        (by_reason["wrong_key"], wrong_key),
    ]:
        # the original bytes, bounded: a too-large input keeps its first 4096 bytes
        assert base64.b64decode(d.payload_b64) == original[:4096]
        assert d.payload_size == len(original)
        assert d.source_topic == prefix + READINGS.name
        assert d.stage == "detect"
        assert d.offset >= 0 and d.partition >= 0
    assert "value" in by_reason["schema"].detail
    assert "5" in by_reason["too_large"].detail and "4096" in by_reason["too_large"].detail
    # Offsets point at the original messages: all four share one partition, in order.
    assert len({d.partition for d in dead}) == 1
    offsets = [by_reason[r].offset for r in ("not_json", "schema", "too_large", "wrong_key")]
    assert offsets == sorted(offsets) and len(set(offsets)) == 4

    status, _ = get_json(f"{running['web']}/ready")
    assert status == 200, "the worker kept running"


def test_metrics_are_served_on_localhost_and_table_views_are_off(
    kafka_bootstrap: str, running: dict
) -> None:
    producer = Producer(kafka_bootstrap, running["prefix"])
    producer.send_raw(READINGS.name, b"not json at all", key=SENSOR.encode())
    producer.send(reading(10, 1.0))
    producer.flush()
    producer.close()

    import urllib.request

    def metrics_text() -> str:
        with urllib.request.urlopen(f"{running['web']}/metrics", timeout=5) as resp:
            return resp.read().decode()

    def has_counts() -> str | None:
        text = metrics_text()
        ok = (
            f'yujing_dead_letters_total{{reason="not_json",topic="{READINGS.name}"}} 1.0' in text
            and f'yujing_events_in_total{{topic="{READINGS.name}"}} 2.0' in text
            # counted as the broker acknowledges it: a moment after it is sent
            and f'yujing_events_out_total{{topic="{DEAD_LETTERS.name}"}} 1.0' in text
        )
        return text if ok else None

    text = wait_for(
        has_counts, timeout=30, what="metrics to count the two events and the dead letter"
    )
    assert "faust_" in text, "Faust's own Prometheus sensor shares the registry"

    for path in ("/table", "/table/", "/router", "/graph"):
        status, _ = get_json(f"{running['web']}{path}")
        assert status == 404, path
    port = int(running["web"].rsplit(":", 1)[1])
    assert listening_addresses(port) == {"127.0.0.1"}, "the web server binds loopback only"


def listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on ``port``, read from /proc/net/tcp{,6}."""
    import ipaddress

    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr_hex, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(addr_hex)
            # /proc stores each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(str(ipaddress.ip_address(raw if width == 32 else raw[:4])))
    return found
