"""Closed loop on a real broker: SLA breaches, kill -9, flaky SMS, auto-disposal, bad updates.

Workers and sinks are real processes (see conftest.py); the clock runs 60 times as fast,
so the 5-minute emergency deadline passes 5 wall seconds after an order.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from schemas import (
    Channel,
    DeadLetter,
    DispatchOrder,
    DispatchUpdate,
    NotificationReceipt,
    NotificationRequest,
    OrderAction,
    OrderState,
    OrderStatus,
    SensorReading,
    SlaBreach,
)
from schemas.codec import decode, encode
from schemas.registry import (
    DEAD_LETTERS,
    DISPATCH_ORDERS,
    DISPATCH_UPDATES,
    NOTIFICATIONS,
    ORDER_STATUS,
    RECEIPTS,
    SLA_BREACHES,
)
from streams.dev.runner import spawn

pytestmark = pytest.mark.integration

_seq = iter(range(1_000_000))


def reading(sensor: str, kind: str, place: str, value: float) -> SensorReading:
    return SensorReading(
        reading_id=f"{sensor}-{next(_seq)}",
        sensor_id=sensor,
        sensor_kind=kind,
        place_id=place,
        value=value,
        event_time=datetime.now(UTC),
    )


#: a restaurant of the default district model, in Linping
RESTAURANT = "site.linping.c01.restaurant-01"


def gas(sensor: str, value: float) -> SensorReading:
    return reading(sensor, "gas_lel", f"site.{sensor}", value)


def order_for(stack, place: str, timeout: float = 60.0) -> DispatchOrder:
    def find():
        return [o for o in stack.read(DISPATCH_ORDERS, DispatchOrder) if place in o.summary]

    return stack.wait_for(find, timeout, f"the order for {place}")[0]


def breaches_of(stack, order_id: str) -> list[SlaBreach]:
    return [b for b in stack.read(SLA_BREACHES, SlaBreach) if b.order_id == order_id]


def update(order_id: str, n: int, action: OrderAction) -> DispatchUpdate:
    return DispatchUpdate(
        update_id=f"{order_id}-u{n}",
        order_id=order_id,
        action=action,
        actor="field-app",
        event_time=datetime.now(UTC),
    )


def test_unsigned_emergency_order_breaches_once_at_five_minutes_and_escalates(
    stack_factory,
) -> None:
    stack = stack_factory()
    # the late one at a restaurant of the district model: its town's office is escalated to
    at_site = reading("gas-late", "gas_lel", RESTAURANT, 26.0)
    stack.produce(at_site, gas("gas-ontime", 30.0))
    late = order_for(stack, RESTAURANT)
    ontime = order_for(stack, "site.gas-ontime")
    assert (late.department, late.town, late.escalate_to) == ("gas", "linping", "town.linping")
    # The on-time order is signed and assigned within its 5 minutes (5 wall seconds).
    stack.produce(update(ontime.order_id, 1, OrderAction.SIGNED))
    stack.produce(update(ontime.order_id, 2, OrderAction.ASSIGNED))

    signed = stack.wait_for(
        lambda: [b for b in breaches_of(stack, late.order_id) if b.stage == "signed"],
        40,
        "the 'signed' breach",
    )
    # lag 0 with nothing in flight, a tick after the breach was seen included: a
    # duplicate (or a breach of the on-time order) would be on the topic now
    stack.settle()
    stages = Counter(b.stage for b in breaches_of(stack, late.order_id))
    assert stages["signed"] == 1, stages
    assert all(n == 1 for n in stages.values()), stages
    breach = signed[0]
    assert breach.deadline == late.deadlines["signed"]
    assert breach.deadline - late.event_time == late.deadlines["signed"] - late.event_time
    assert (breach.deadline - late.event_time).total_seconds() == 300
    assert breach.event_time >= breach.deadline, "never before the deadline"
    assert breach.escalate_to == late.escalate_to
    # who missed it, in which role, for which department and town: the leader's view
    assert (breach.receiver, breach.receiver_role) == (late.receiver, late.assignee_role)
    assert (breach.department, breach.town) == ("gas", "linping")
    assert "signed" not in {b.stage for b in breaches_of(stack, ontime.order_id)}

    def escalations():
        return [
            m
            for m in stack.sms_messages()
            if "SLA breach" in m["text"] and late.order_id in m["text"] and "'signed'" in m["text"]
        ]

    sent = stack.wait_for(escalations, 20, "the escalation SMS")
    assert len(sent) == 1
    assert sent[0]["to"].count("*") >= 6

    states = [(s.order_id, s.state) for s in stack.read(ORDER_STATUS, OrderStatus) if s.order_id]
    assert (late.order_id, OrderState.OPEN) in states
    assert (ontime.order_id, OrderState.ASSIGNED) in states
    text = stack.metrics()
    # by department (a bounded label: the district model's departments)
    breached = 'yujing_sla_breaches_total{department="gas",sla_class="emergency",stage="signed"}'
    assert f"{breached} 1.0" in text
    assert 'yujing_orders_total{department="gas",mode="person"} 2.0' in text


def test_breach_survives_kill_9_and_is_published_exactly_once(stack_factory) -> None:
    stack = stack_factory()
    stack.produce(gas("gas-kill", 26.0))
    order = order_for(stack, "site.gas-kill")
    stack.wait_for(
        lambda: [s for s in stack.read(ORDER_STATUS, OrderStatus) if s.order_id == order.order_id],
        30,
        "the order to be tracked",
    )
    assert stack.worker is not None
    stack.worker.kill()  # before the deadline: 5 simulated minutes after the order
    assert not breaches_of(stack, order.order_id)
    # Stay down past the deadline (simulated = epoch + (wall - epoch) * 60).
    epoch = datetime.fromtimestamp(float(stack.env["YUJING_CLOCK_EPOCH"]), UTC)
    wall_deadline = epoch + (order.deadlines["signed"] - epoch) / 60
    time.sleep(max(0.0, (wall_deadline - datetime.now(UTC)).total_seconds()) + 1.0)
    # Restart; this worker publishes the breach on recovery and then dies like kill -9
    # before it can store the mark (a failpoint), so the next one must read it back.
    dying = spawn(
        "worker-failpoint",
        ["worker", "--loglevel", "warning"],
        {**stack.env, "YUJING_FAILPOINT": "die_after_breach"},
        stack.tmp,
    )
    stack.started.append(dying)
    first = stack.wait_for(
        lambda: [b for b in breaches_of(stack, order.order_id) if b.stage == "signed"],
        60,
        "the breach after the restart",
    )
    stack.wait_for(lambda: dying.proc.poll() is not None, 30, "the failpoint to fire")
    assert dying.proc.returncode == 137, dying.log_tail()
    assert first[0].event_time >= order.deadlines["signed"]
    stack.start_worker()
    # the new worker has read the breaches back and handled a tick past the deadline,
    # and the escalation has gone out: a second breach would be on the topic now
    stack.settle()
    stages = Counter(b.stage for b in breaches_of(stack, order.order_id))
    assert stages["signed"] == 1, stages
    assert all(n == 1 for n in stages.values()), stages
    escalations = [
        m
        for m in stack.sms_messages()
        if "SLA breach" in m["text"] and order.order_id in m["text"] and "'signed'" in m["text"]
    ]
    assert len(escalations) == 1


def test_flaky_sms_is_retried_never_sent_twice_and_nothing_is_lost(stack_factory) -> None:
    stack = stack_factory(sinks_args=["--sms-failure-rate", "0.3", "--seed", "11"])
    requests = [
        NotificationRequest(
            notification_id=f"ntf-flaky-{i}",
            idempotency_key=f"ntf-flaky-{i}",
            order_id=f"order-flaky-{i}",
            alert_id=f"alert-flaky-{i}",
            channel=Channel.SMS,
            receiver="gas_company_hotline",  # a routes line: deliver looks its number up
            purpose="dispatch",
            message=f"flaky test message {i}",
            event_time=datetime.now(UTC),
        )
        for i in range(40)
    ]
    stack.produce(*requests[:20])

    def receipts() -> list[NotificationReceipt]:
        return stack.read(RECEIPTS, NotificationReceipt, timeout_s=2.0)

    stack.wait_for(lambda: len(receipts()) >= 5, 60, "the first receipts")
    assert stack.worker is not None
    stack.worker.kill()  # mid-stream: some requests will be delivered again after restart
    stack.produce(*requests[20:])
    stack.start_worker()
    ids = {r.notification_id for r in requests}
    got = stack.wait_for(
        lambda: (r := receipts()) and ids <= {x.notification_id for x in r} and r,
        90,
        "a receipt for every request",
    )
    stack.settle()  # every request and re-delivery handled: a second send would have happened
    got = receipts()
    import json
    import urllib.request

    with urllib.request.urlopen(f"{stack.sms}/v1/stats", timeout=5) as resp:
        stats = json.loads(resp.read())
    assert stats["injected_failures"] >= 5, stats  # 30 % of ~50 sends failed: retries happened
    messages = stack.sms_messages()
    keys = [m["idempotency_key"] for m in messages]
    assert len(keys) == len(set(keys)), "a key was accepted twice"
    dead_ids = {
        decode(NotificationRequest, base64.b64decode(d.payload_b64)).notification_id
        for d in stack.read(DEAD_LETTERS, DeadLetter)
        if d.reason.value == "undeliverable"
    }
    by_key = {m["idempotency_key"]: m["message_id"] for m in messages}
    for req in requests:
        mine = [r for r in got if r.notification_id == req.notification_id]
        delivered = [r for r in mine if r.status.value == "delivered"]
        if delivered:
            assert {r.provider_message_id for r in delivered} == {by_key[req.idempotency_key]}
        else:
            assert req.notification_id in dead_ids, f"{req.notification_id}: lost"
    assert set(by_key) <= ids


def river(sensor: str, value: float) -> SensorReading:
    return reading(sensor, "river_level_m", f"bank.{sensor}", value)


def test_auto_disposal_closes_a_recovered_sensor_and_escalates_the_other(stack_factory) -> None:
    # every call "handled": the re-check decides (a "needs help" answer would hand
    # the order over before it; that is the next test)
    stack = stack_factory(sinks_args=["--voice-outcomes", "handled=1"])
    stack.produce(river("river-ok", 4.8), river("river-bad", 4.9))
    ok = order_for(stack, "bank.river-ok")
    bad = order_for(stack, "bank.river-bad")
    assert ok.auto_disposal is not None and bad.auto_disposal is not None
    assert ok.auto_disposal.sensor_ids == ["river-ok"]
    # 10 simulated minutes (10 wall seconds) until the re-check; readings every 2 minutes.
    deadline = time.monotonic() + 40

    def statuses() -> dict[str, list[OrderStatus]]:
        out: dict[str, list[OrderStatus]] = {}
        for s in stack.read(ORDER_STATUS, OrderStatus, timeout_s=1.0):
            out.setdefault(s.order_id, []).append(s)
        return out

    decided: dict[str, list[OrderStatus]] = {}
    while time.monotonic() < deadline:
        stack.produce(river("river-ok", 4.0), river("river-bad", 4.4))
        decided = statuses()
        if all(any(s.cause == "recheck" for s in decided.get(o.order_id, [])) for o in (ok, bad)):
            break
        time.sleep(1.0)
    ok_states = [s.state for s in decided[ok.order_id]]
    bad_states = [s.state for s in decided[bad.order_id]]
    assert ok_states == [OrderState.AUTO_DISPOSING, OrderState.AUTO_RESOLVED], ok_states
    assert bad_states == [OrderState.AUTO_DISPOSING, OrderState.OPEN], bad_states
    recheck = next(s for s in decided[bad.order_id] if s.cause == "recheck")
    assert recheck.event_time >= bad.auto_disposal.recheck_at

    # Machine first: an SMS reminder and a voice call to the party concerned, for both.
    receipts = stack.wait_for(
        lambda: [
            r
            for r in stack.read(RECEIPTS, NotificationReceipt)
            if r.order_id in (ok.order_id, bad.order_id)
        ],
        20,
        "receipts",
    )
    stack.settle()  # both calls settled, nothing in flight: a second call would be placed now
    receipts = stack.read(RECEIPTS, NotificationReceipt)
    for o in (ok, bad):
        channels = sorted(r.channel.value for r in receipts if r.order_id == o.order_id)
        assert "sms" in channels and "voice" in channels, channels
        voice = [r for r in receipts if r.order_id == o.order_id and r.channel.value == "voice"]
        assert voice[0].call_outcome is not None
    assert len(stack.voice_calls()) == 2
    # Only the order whose sensor did not recover reaches a person.
    escalated = stack.wait_for(
        lambda: [m for m in stack.sms_messages() if "automatic disposal" in m["text"]],
        20,
        "the escalated dispatch",
    )
    assert [bad.order_id in m["text"] for m in escalated] == [True]
    text = stack.metrics()
    assert 'yujing_auto_disposal_total{outcome="auto_resolved"} 1.0' in text
    assert 'yujing_auto_disposal_total{outcome="escalated"} 1.0' in text
    assert 'yujing_orders_total{department="water",mode="auto"} 2.0' in text
    assert "yujing_auto_disposal_ratio 1.0" in text
    assert "yujing_auto_resolved_per_day 1.0" in text


def test_a_needs_help_answer_hands_the_order_to_a_person_before_the_recheck(
    stack_factory,
) -> None:
    stack = stack_factory(sinks_args=["--voice-outcomes", "needs_help=1"])
    stack.produce(river("river-help", 4.8))
    order = order_for(stack, "bank.river-help")
    assert order.auto_disposal is not None

    def statuses() -> list[OrderStatus]:
        return [
            s
            for s in stack.read(ORDER_STATUS, OrderStatus, timeout_s=1.0)
            if s.order_id == order.order_id
        ]

    handed = stack.wait_for(
        lambda: [s for s in statuses() if s.cause == "help_requested"], 30, "the hand-over"
    )
    # the sensor is back to normal, yet the party asked for help: a person has it
    stack.produce(river("river-help", 4.0), river("river-help", 4.0), river("river-help", 4.0))
    assert handed[0].state is OrderState.OPEN
    assert handed[0].event_time < order.auto_disposal.recheck_at
    escalated = stack.wait_for(
        lambda: [m for m in stack.sms_messages() if "asked for help" in m["text"]],
        20,
        "the escalated dispatch",
    )
    stack.settle()  # the hand-over and all it caused handled: a second SMS would be here
    escalated = [m for m in stack.sms_messages() if "asked for help" in m["text"]]
    assert len(escalated) == 1 and order.order_id in escalated[0]["text"]
    updates = [
        u for u in stack.read(DISPATCH_UPDATES, DispatchUpdate) if u.order_id == order.order_id
    ]
    assert [u.action for u in updates] == [OrderAction.HELP_REQUESTED]
    # past the re-check time (10 simulated minutes): no re-check, nothing closes it
    stack.wait_until_simulated(order.auto_disposal.recheck_at)
    stack.settle()  # a tick after the re-check time has been handled, and all it caused
    assert [s.state for s in statuses()] == [OrderState.AUTO_DISPOSING, OrderState.OPEN]
    text = stack.metrics()
    assert 'yujing_auto_disposal_total{outcome="help_requested"} 1.0' in text
    assert 'yujing_auto_disposal_total{outcome="auto_resolved"}' not in text or (
        'yujing_auto_disposal_total{outcome="auto_resolved"} 0.0' in text
    )


def test_invalid_lifecycle_updates_are_dead_lettered_with_reasons(stack_factory) -> None:
    stack = stack_factory()
    stack.produce(gas("gas-life", 26.0))
    order = order_for(stack, "site.gas-life")
    oid = order.order_id
    signed = update(oid, 2, OrderAction.SIGNED)
    stack.produce(
        update(oid, 1, OrderAction.ARRIVED),  # not yet signed
        signed,
        signed,  # a replay: ignored, not an error
        update(oid, 3, OrderAction.SIGNED),  # signed twice
        update(oid, 4, OrderAction.ASSIGNED),
        update("order-nobody-dispatched", 5, OrderAction.SIGNED),
    )
    bad = encode(update(oid, 6, OrderAction.FEEDBACK)).replace(b'"feedback"', b'"teleported"')
    stack.produce_raw(DISPATCH_UPDATES, bad, key=oid.encode())

    def dead() -> list[DeadLetter]:
        return [d for d in stack.read(DEAD_LETTERS, DeadLetter) if "dispatch-updates" in d.stage]

    letters = stack.wait_for(lambda: len(d := dead()) >= 4 and d, 40, "four dead letters")
    stack.settle()  # every update handled: a fifth letter would be on the topic now
    letters = dead()
    reasons = Counter(d.reason.value for d in letters)
    assert reasons == {"invalid_transition": 2, "unknown_order": 1, "schema": 1}, letters
    details = " | ".join(d.detail for d in letters)
    assert "'arrived' is allowed only when assigned" in details
    assert "'signed' is allowed only when auto_disposing or open" in details
    assert "order-nobody-dispatched" in details
    schema_letter = next(d for d in letters if d.reason.value == "schema")
    assert base64.b64decode(schema_letter.payload_b64) == bad
    states = [s.state for s in stack.read(ORDER_STATUS, OrderStatus) if s.order_id == oid]
    assert states == [OrderState.OPEN, OrderState.SIGNED, OrderState.ASSIGNED]
    assert NOTIFICATIONS  # the topic registry names every topic used here
