"""Voice calls off the hot path, on a real broker with real worker and sink processes.

A placed call is parked on ``yujing.pending-calls.v1`` and checked by
``follow_calls``; the SMS queued behind it on the same partition go out at once,
and a worker killed (``kill -9``) between placing a call and learning its
outcome still publishes that outcome exactly once after a restart.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from kafka.partitioner.default import murmur2
from support import Stack, source_topics, wait_for, wait_processed

from schemas import (
    Channel,
    DispatchOrder,
    DispatchUpdate,
    NotificationReceipt,
    NotificationRequest,
    OrderAction,
    OrderStatus,
    SensorReading,
)
from schemas.codec import decode
from schemas.registry import (
    DISPATCH_ORDERS,
    DISPATCH_UPDATES,
    NOTIFICATIONS,
    ORDER_STATUS,
    RECEIPTS,
)
from streams.runtime.kafka_io import read_topic

pytestmark = pytest.mark.integration

PARTITIONS = 2  # what support.Stack creates


def partition_of(key: str) -> int:
    """Kafka's default partitioner (murmur2), as the producers here use it."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % PARTITIONS


def ids_on(partition: int, prefix: str, n: int) -> list[str]:
    found, i = [], 0
    while len(found) < n:
        if partition_of(f"{prefix}-{i}") == partition:
            found.append(f"{prefix}-{i}")
        i += 1
    return found


def notification(nid: str, channel: Channel) -> NotificationRequest:
    return NotificationRequest(
        notification_id=nid,
        idempotency_key=nid,
        order_id=f"order-{nid}",
        alert_id=f"alert-{nid}",
        channel=channel,
        receiver="gas_company_hotline",  # a routes line: deliver looks its number up
        purpose="dispatch",
        message=f"queued test message {nid}",
        event_time=datetime.now(UTC),
    )


def receipt_times(stack: Stack) -> dict[str, tuple[float, NotificationReceipt]]:
    """notification id → (broker timestamp in seconds, receipt), first receipt of each."""
    out: dict[str, tuple[float, NotificationReceipt]] = {}
    for r in read_topic(stack.bootstrap, stack.prefix + RECEIPTS.name, timeout_s=2, idle_s=0.5):
        receipt = decode(NotificationReceipt, r.value)
        out.setdefault(receipt.notification_id, (r.timestamp / 1000, receipt))
    return out


def test_sms_queued_behind_voice_calls_are_not_delayed_by_them(stack_factory) -> None:
    call_s = 6.0
    stack = stack_factory(
        sinks_args=["--voice-call-ms", str(call_s * 1000), "--voice-outcomes", "handled=1"],
        env={"YUJING_DELIVERY_TIMEOUT_S": "60"},  # the calls' deadline: longer than a call
    )
    voice = [notification(n, Channel.VOICE) for n in ids_on(0, "ntf-call", 3)]
    sms = [notification(n, Channel.SMS) for n in ids_on(0, "ntf-sms", 10)]
    sent_at = time.time()
    stack.produce(*voice, *sms)  # in this order, on one partition: the SMS queue behind the calls
    placed = {
        r.partition
        for r in read_topic(stack.bootstrap, stack.prefix + NOTIFICATIONS.name, min_count=13)
    }
    assert placed == {0}

    want = {n.notification_id for n in voice + sms}
    got = wait_for(
        lambda: want <= set(t := receipt_times(stack)) and t, 60, "a receipt for every request"
    )
    sms_s = sorted(got[n.notification_id][0] - sent_at for n in sms)
    voice_s = sorted(got[n.notification_id][0] - sent_at for n in voice)
    print(f"SMS receipts after {[f'{s:.2f}' for s in sms_s]} s; voice after {voice_s} s")
    # every SMS went out before the first call could even have ended ...
    assert sms_s[-1] < call_s, sms_s
    # ... while the calls really lasted, and their outcomes came back on their receipts
    assert voice_s[0] >= call_s, voice_s
    for n in voice:
        receipt = got[n.notification_id][1]
        assert receipt.call_outcome is not None and receipt.call_outcome.value == "handled"
    calls = stack.voice_calls()
    assert sorted(c["idempotency_key"] for c in calls) == sorted(n.idempotency_key for n in voice)


def river(sensor: str, value: float) -> SensorReading:
    return SensorReading(
        reading_id=f"{sensor}-{time.time_ns()}",
        sensor_id=sensor,
        sensor_kind="river_level_m",
        place_id=f"bank.{sensor}",
        value=value,
        event_time=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    "failpoint",
    [
        "",  # a plain kill -9 while the call rings
        "die_after_call_placed",  # the call placed, not parked yet
        "die_after_call_receipt",  # the outcome published, its pending call not committed
    ],
)
def test_a_kill_9_during_a_voice_call_still_publishes_its_outcome_once(
    stack_factory, failpoint: str
) -> None:
    # the clock at 6x: the re-check (10 simulated minutes) stays 100 s away, so the call's
    # "needs help" answer is what hands the order over, however long the restart takes
    env = {
        "YUJING_CLOCK_SPEED": "6",
        "YUJING_DELIVERY_TIMEOUT_S": "60",
        "YUJING_STALL_AFTER_S": "5",
    }
    if failpoint:
        env["YUJING_FAILPOINT"] = failpoint
    stack = stack_factory(
        sinks_args=["--voice-call-ms", "4000", "--voice-outcomes", "needs_help=1"], env=env
    )
    sensor = f"river-call-{failpoint or 'kill'}"
    stack.produce(river(sensor, 4.8))
    order = wait_for(
        lambda: [
            o
            for o in stack.read(DISPATCH_ORDERS, DispatchOrder, timeout_s=1.0)
            if sensor in o.summary
        ],
        60,
        "the auto-disposal order",
    )[0]
    assert order.auto_disposal is not None
    assert stack.worker is not None
    first = stack.worker
    if failpoint:
        wait_for(lambda: first.proc.poll() is not None, 60, f"the failpoint {failpoint}")
        assert first.proc.returncode == 137, first.log_tail()
        assert failpoint in (stack.tmp / "worker.log").read_text()
        del stack.env["YUJING_FAILPOINT"]
    else:
        wait_for(stack.voice_calls, 30, "the call to be placed")
        first.kill()

    def voice_receipts() -> list[NotificationReceipt]:
        return [
            r
            for r in stack.read(RECEIPTS, NotificationReceipt, timeout_s=1.0)
            if r.order_id == order.order_id and r.channel is Channel.VOICE
        ]

    if failpoint != "die_after_call_receipt":
        assert voice_receipts() == [], "the outcome came before the worker died"
    stack.start_worker()
    wait_for(voice_receipts, 60, "the call's outcome after the restart")
    wait_for(
        lambda: [
            s
            for s in stack.read(ORDER_STATUS, OrderStatus, timeout_s=1.0)
            if s.order_id == order.order_id and s.cause == "help_requested"
        ],
        30,
        "the hand-over",
    )
    wait_processed(stack.bootstrap, stack.group, source_topics(stack.prefix))

    [receipt] = voice_receipts()
    assert receipt.call_outcome is not None and receipt.call_outcome.value == "needs_help"
    [call] = stack.voice_calls()  # one call, placed once, whatever was re-sent
    assert receipt.provider_message_id == call["call_id"]
    updates = [
        u for u in stack.read(DISPATCH_UPDATES, DispatchUpdate) if u.order_id == order.order_id
    ]
    assert [u.action for u in updates] == [OrderAction.HELP_REQUESTED]
    # at least once: a status published just before the kill may come again after the
    # restart, with the same id (docs/contracts.md); what counts is one hand-over, once
    firsts = {
        s.status_id: s
        for s in reversed(stack.read(ORDER_STATUS, OrderStatus))
        if s.order_id == order.order_id
    }
    states = Counter(s.cause for s in firsts.values())
    assert states["help_requested"] == 1, states
    escalated = [m for m in stack.sms_messages() if "asked for help" in m["text"]]
    assert len(escalated) == 1 and order.order_id in escalated[0]["text"]
    keys = [m["idempotency_key"] for m in stack.sms_messages()]
    assert len(keys) == len(set(keys)), "an SMS key was accepted twice"
