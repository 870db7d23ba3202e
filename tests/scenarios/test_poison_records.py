"""Poison records on a real broker: nothing is lost for its size, its time or its content.

Every record here is one a producer could really send and the broker accepts: a
900 KB plain record, gzip-compressed records that are 2 MB and 20 MB once
decompressed, readings stamped in the year 9999 or far ahead of the clock, and
an id sent again with other content. Each must become exactly one dead letter
with its reason, its size and a digest of the whole original, while the good
readings around it go through; and a dead letter the broker refuses must stop
the worker before the offset of its input is committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType
from support import Stack, committed_offsets, end_offsets, wait_for

from schemas import Alert, DeadLetter, DispatchOrder, RiskSignal, SensorReading
from schemas.registry import ALERTS, DEAD_LETTERS, DISPATCH_ORDERS, READINGS, SIGNALS
from streams.dev.runner import get_json

pytestmark = pytest.mark.integration

SENSOR = "gas-poison-1"
PLACE = "site.test.kitchen"


def reading(i: int, value: float, at: datetime | None = None, rid: str = "") -> SensorReading:
    return SensorReading(
        reading_id=rid or f"{SENSOR}-{i}",
        sensor_id=SENSOR,
        sensor_kind="gas_lel",
        place_id=PLACE,
        value=value,
        unit="%LEL",
        event_time=at or datetime(2026, 11, 27, 8, 0, i, tzinfo=UTC),
    )


def big(size: int) -> bytes:
    """A JSON-looking record of ``size`` bytes that gzip shrinks to almost nothing."""
    return b'{"reading_id": "pad", "pad": "' + b"x" * (size - 34) + b'"}'


def produce(bootstrap: str, topic: str, values: list[bytes], compression: str | None) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        compression_type=compression,
        max_request_size=64 * 1024 * 1024,  # checked before compression; the broker checks after
    )
    for value in values:
        producer.send(topic, key=SENSOR.encode(), value=value).get(timeout=30)
    producer.close()


def dead_letters(stack: Stack, want: int) -> list[DeadLetter]:
    """The dead letters, once there are at least ``want`` (fails after 90 s)."""

    def enough() -> list[DeadLetter] | None:
        found = stack.read(DEAD_LETTERS, DeadLetter)
        return found if len(found) >= want else None

    return wait_for(enough, timeout=90, what=f"{want} dead letters")


def test_records_of_900_kb_and_compressed_2_and_20_mb_are_dead_lettered_bounded(
    make_stack_env: Callable[..., Stack],
) -> None:
    stack = make_stack_env(YUJING_MAX_MESSAGE_BYTES="4096")
    topic = stack.prefix + READINGS.name
    plain = big(900 * 1024)
    two, twenty = big(2 * 1024 * 1024), big(20 * 1024 * 1024)
    produce(stack.bootstrap, topic, [plain], None)
    produce(stack.bootstrap, topic, [two, twenty], "gzip")
    stack.produce(reading(1, 26.0))  # after them, on their partition: it must still alert

    dead_letters(stack, 3)
    stack.settle()
    dead = stack.read(DEAD_LETTERS, DeadLetter)
    assert len(dead) == 3, [(d.reason, d.payload_size) for d in dead]
    for d, original in zip(sorted(dead, key=lambda d: d.offset), [plain, two, twenty], strict=True):
        assert d.reason.value == "too_large"
        assert d.payload_size == len(original)
        assert d.payload_sha256 == hashlib.sha256(original).hexdigest()
        assert len(d.payload_b64) <= 4 * 4096 // 3 + 4  # the first 4096 bytes, base64
        assert d.source_topic == topic and d.stage == "detect"
    labels = {"reason": "too_large", "topic": READINGS.name}
    assert stack.metric("yujing_dead_letters_total", labels) == 3
    signals = stack.read(SIGNALS, RiskSignal)
    assert len(signals) == 1, "the reading after the poison records still became a signal"


def test_a_dead_letter_the_broker_refuses_stops_the_worker_before_its_offset_commits(
    make_stack_env: Callable[..., Stack],
) -> None:
    stack = make_stack_env(YUJING_MAX_MESSAGE_BYTES="4096")
    admin = KafkaAdminClient(bootstrap_servers=stack.bootstrap)
    try:  # the dead-letter topic now refuses anything over 1 KB
        admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC,
                    stack.prefix + DEAD_LETTERS.name,
                    configs={"max.message.bytes": "1024"},
                )
            ]
        )
    finally:
        admin.close()
    stack.produce(reading(1, 1.0))
    stack.settle()  # the good reading is processed and committed
    topic = stack.prefix + READINGS.name
    produce(stack.bootstrap, topic, [big(8 * 1024)], None)

    worker = stack.worker
    assert worker is not None
    code = wait_for(lambda: worker.proc.poll(), timeout=90, what="the worker to stop")
    assert code == 70, worker.log_tail()
    assert "not delivered" in worker.log_tail(200)
    done = committed_offsets(stack.bootstrap, stack.group)
    committed = {tp.partition: n for tp, n in done.items() if tp.topic == topic}
    ends = {tp.partition: n for tp, n in end_offsets(stack.bootstrap, [topic]).items()}
    behind = [p for p, end in ends.items() if committed.get(p, 0) < end]
    assert len(behind) == 1, (committed, ends)  # the refused record is read again on restart
    assert stack.read(DEAD_LETTERS, DeadLetter) == []
    stack.worker = None  # it has stopped; nothing to stop at teardown


def test_an_implausible_time_and_a_reused_id_are_dead_lettered_and_blind_nothing(
    make_stack_env: Callable[..., Stack],
) -> None:
    """A reading stamped 9999-12-31T23:59:59-12:00 (the year 10000 in UTC) and one a
    month ahead (beyond the skew: 5 min times the test clock's speed) are dead-lettered
    ``implausible_time``; an alarm's id sent again with another value is ``conflict``,
    the same reading sent again is taken once. After them the alarm still makes exactly
    one signal, one alert and one order, no watermark has moved past this century, and
    every map page answers."""
    stack = make_stack_env()
    first = reading(1, 26.0)
    stack.produce(
        reading(0, 30.0, at=datetime.fromisoformat("9999-12-31T23:59:59-12:00")),
        reading(2, 31.0, at=datetime.now(UTC) + timedelta(days=30)),
        first,
        reading(1, 27.0),  # the same id, another value
        first,  # sent again, as an at-least-once producer may
    )
    dead_letters(stack, 3)
    stack.settle()
    dead = stack.read(DEAD_LETTERS, DeadLetter)
    reasons = sorted(d.reason.value for d in dead)
    assert reasons == ["conflict", "implausible_time", "implausible_time"], dead
    conflict = next(d for d in dead if d.reason.value == "conflict")
    assert "value 26.0" in conflict.detail and "27.0" in conflict.detail
    signals = stack.read(SIGNALS, RiskSignal)
    assert [s.source_event_ids for s in signals] == [[first.reading_id]]
    alerts = stack.read(ALERTS, Alert)
    assert len(alerts) == 1 and len({(a.alert_id, a.version) for a in alerts}) == 1
    assert len(stack.read(DISPATCH_ORDERS, DispatchOrder)) == 1
    assert stack.metric("yujing_inputs_repeated_total", {"stage": "detect"}) == 1
    status, body = get_json(f"{stack.web}/map")
    assert status == 200
    assert all(wm < "2100" for wm in body["watermarks"].values()), body["watermarks"]
    for scope in body["scopes"]:
        assert get_json(f"{stack.web}/map/{scope}/alerts")[0] in (200, 404)
    for alert in alerts:
        assert get_json(f"{stack.web}/alerts/{alert.alert_id}")[0] == 200
