"""Issue 9 on the real broker: nothing on a source topic is skipped across kill -9s and rebalances.

Each scenario repeats its fault five times in a row (the loss it guards against
was intermittent), and after each one waits for lag 0 on every source partition
(``support.wait_processed``: the end offsets taken after the outputs showed up
must all be committed), then checks the outputs exactly: every alarm is one
alert and one order, every notification is delivered or dead-lettered, no
idempotency key is accepted twice by the provider.

Workers run with ``YUJING_STALL_AFTER_S=5``: if a record were still lost on its
way to an agent, the watchdog would re-read it within seconds; each scenario
prints how often that happened (``yujing_offset_reseeks_total``), and
``test_a_lost_handover_is_read_again`` proves the watchdog itself.

Issue 12: outputs are not awaited one by one (``streams.runtime.checkpoint``): an
event's outputs are left with the producer, its detectors move on in memory, and
the next event starts. ``test_a_kill_9_with_a_batch_outputs_in_flight_...`` kills
the worker (failpoint ``die_with_outputs_in_flight:3``: the way ``kill -9`` would,
at exactly that moment) right after the detect agent handed over the signals of a
gateway batch carrying several alarms: none has reached the broker, the sensors'
state has moved past them in memory, nothing of either is committed. After a
restart the batch is read again and every alarm is exactly one signal, one alert
and one order.
"""

from __future__ import annotations

import base64
import json
import random
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import Stack, source_topics, wait_for, wait_processed

from schemas import (
    Alert,
    DeadLetter,
    DispatchOrder,
    NotificationReceipt,
    NotificationRequest,
    ReadingBatch,
    SensorReading,
)
from schemas.codec import decode
from schemas.registry import ALERTS, DEAD_LETTERS, DISPATCH_ORDERS, NOTIFICATIONS, RECEIPTS, SIGNALS
from schemas.signal import RiskSignal
from streams.dev.runner import Child, wait_http
from streams.runtime.partitioning import partition_of

pytestmark = pytest.mark.integration

CYCLES = int(__import__("os").environ.get("CYCLES", "5"))
FAST_WATCHDOG = {"YUJING_STALL_AFTER_S": "5"}


def gas(sensor: str, value: float = 30.0) -> SensorReading:
    """A gas alarm (LEL over the threshold) at the sensor's own place."""
    return SensorReading(
        reading_id=f"{sensor}-r",
        sensor_id=sensor,
        sensor_kind="gas_lel",
        place_id=f"site.{sensor}",
        value=value,
        event_time=datetime.now(UTC),
    )


def alerts_and_orders(
    stack: Stack, places: set[str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """place → distinct alert ids, alert id → distinct order ids (for ``places``)."""
    alerts: dict[str, set[str]] = defaultdict(set)
    for a in stack.read(ALERTS, Alert, timeout_s=2.0):
        if a.kind.value == "single" and a.scope in places:
            alerts[a.scope].add(a.alert_id)
    mine = {i for ids in alerts.values() for i in ids}
    orders: dict[str, set[str]] = defaultdict(set)
    for o in stack.read(DISPATCH_ORDERS, DispatchOrder, timeout_s=2.0):
        if o.alert_id in mine:
            orders[o.alert_id].add(o.order_id)
    return alerts, orders


def assert_one_alert_and_one_order_each(stack: Stack, alarms: list[SensorReading]) -> None:
    places = {r.place_id for r in alarms}

    def all_ordered() -> bool:
        alerts, orders = alerts_and_orders(stack, places)
        return set(alerts) == places and all(orders.get(a) for ids in alerts.values() for a in ids)

    wait_for(all_ordered, 90, f"an order for each of {len(places)} alarms")
    wait_processed(stack.bootstrap, stack.group, source_topics(stack.prefix))
    alerts, orders = alerts_and_orders(stack, places)
    assert {p: len(ids) for p, ids in alerts.items() if len(ids) != 1} == {}
    assert {a: len(ids) for a, ids in orders.items() if len(ids) != 1} == {}
    assert len(orders) == len(places)


def reseeks(*logs: Path) -> int:
    return sum(p.read_text(errors="replace").count("reading it again from there") for p in logs)


def wait_first_signal(stack: Stack, sensors: set[str]) -> None:
    """Until at least one of ``sensors`` has become a signal: the worker is mid-flight."""

    def some() -> bool:
        return any(s.source_key in sensors for s in stack.read(SIGNALS, RiskSignal, timeout_s=0.5))

    wait_for(some, 60, "a first signal of this wave")


def test_alarms_sent_while_the_only_worker_is_down_become_one_alert_and_order_each(
    stack_factory,
) -> None:
    stack = stack_factory(env=FAST_WATCHDOG)
    rng = random.Random(9)
    for cycle in range(CYCLES):
        before = [gas(f"up{cycle}-{k}") for k in range(4)]
        quiet = [gas(f"ok{cycle}-{k}", 1.0) for k in range(200)]
        stack.produce(*quiet, *before)
        wait_first_signal(stack, {r.sensor_id for r in before})
        time.sleep(rng.uniform(0.0, 0.5))
        assert stack.worker is not None
        stack.worker.kill()
        down = [gas(f"down{cycle}-{k}") for k in range(20)]
        stack.produce(*down)
        stack.start_worker()
        assert_one_alert_and_one_order_each(stack, before + down)
    print(f"re-seeks by the watchdog: {reseeks(stack.tmp / 'worker.log')}")


def _receipts_or_dead_letters(stack: Stack) -> tuple[set[str], set[str], set[str]]:
    """Notification ids on the topic, those with a receipt, those dead-lettered."""
    requested = {n.notification_id for n in stack.read(NOTIFICATIONS, NotificationRequest)}
    receipted = {r.notification_id for r in stack.read(RECEIPTS, NotificationReceipt)}
    dead = {
        decode(NotificationRequest, base64.b64decode(d.payload_b64)).notification_id
        for d in stack.read(DEAD_LETTERS, DeadLetter)
        if d.source_topic.endswith(NOTIFICATIONS.name)
    }
    return requested, receipted, dead


def _sms_stats(stack: Stack) -> dict[str, int]:
    with urllib.request.urlopen(f"{stack.sms}/v1/stats", timeout=5) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def test_notifications_in_flight_at_a_kill_9_are_delivered_or_dead_lettered(
    stack_factory,
) -> None:
    flaky = ["--sms-failure-rate", "0.3", "--voice-failure-rate", "0.3"]
    slow = ["--sms-latency-ms", "150", "--voice-latency-ms", "150", "--seed", "9"]
    stack = stack_factory(env=FAST_WATCHDOG, sinks_args=flaky + slow)

    def settled() -> bool:
        requested, receipted, dead = _receipts_or_dead_letters(stack)
        return bool(requested) and requested <= receipted | dead

    for cycle in range(CYCLES):
        alarms = [gas(f"ntf{cycle}-{k}") for k in range(6)]
        stack.produce(*alarms)
        accepted = _sms_stats(stack)["accepted"]

        def in_flight(accepted: int = accepted, cycle: int = cycle) -> bool:
            requested = stack.read(NOTIFICATIONS, NotificationRequest, timeout_s=0.5)
            mine = [n for n in requested if f"ntf{cycle}-" in n.message]
            return len(mine) >= 2 and _sms_stats(stack)["accepted"] > accepted

        wait_for(in_flight, 60, "notifications of this wave being sent")
        assert stack.worker is not None
        stack.worker.kill()
        stack.start_worker()
        wait_for(settled, 120, "a receipt or a dead letter for every notification")
        wait_processed(stack.bootstrap, stack.group, source_topics(stack.prefix))
        keys = [m["idempotency_key"] for m in stack.sms_messages()]
        keys += [c["idempotency_key"] for c in stack.voice_calls()]
        assert len(keys) == len(set(keys)), "a provider accepted one idempotency key twice"
    # Orders go on raising notifications after a wave has settled (the voice call that
    # follows an unanswered SMS, a re-check's reminder): the last ones may be requested
    # after the last wave's check, so the end waits for them to settle too.
    wait_for(settled, 120, "a receipt or a dead letter for every notification, at the end")
    requested, receipted, dead = _receipts_or_dead_letters(stack)
    print(
        f"notifications {len(requested)}, dead-lettered {len(dead - receipted)}, "
        f"re-seeks by the watchdog: {reseeks(stack.tmp / 'worker.log')}"
    )


def _second_worker(stack: Stack, name: str) -> tuple[Child, str]:
    return stack.extra_worker(name)


def test_kill_9_during_a_rebalance_with_two_workers_loses_nothing(stack_factory) -> None:
    stack = stack_factory(env=FAST_WATCHDOG)
    rng = random.Random(99)
    other: Child | None = None
    for cycle in range(CYCLES):
        before = [gas(f"rb{cycle}-{k}") for k in range(10)]
        stack.produce(*before, *[gas(f"rbok{cycle}-{k}", 1.0) for k in range(300)])
        # a second worker joins: the group rebalances; kill -9 the first in the middle
        other, web = _second_worker(stack, f"worker-b{cycle}")
        time.sleep(rng.uniform(0.5, 3.0))
        assert stack.worker is not None
        stack.worker.kill()
        down = [gas(f"rbdown{cycle}-{k}") for k in range(10)]
        stack.produce(*down)
        stack.start_worker()
        wait_http(other, f"{web}/ready", timeout=120)
        assert_one_alert_and_one_order_each(stack, before + down)
        other.stop()  # a clean leave: the next cycle starts from one worker again
    logs = [stack.tmp / "worker.log", *stack.tmp.glob("worker-b*.log")]
    print(f"re-seeks by the watchdog: {reseeks(*logs)}")


def test_a_lost_handover_is_read_again(stack_factory) -> None:
    """The watchdog: a record handed to the streams and lost there (the failure mode of
    Faust's drain loop, forced by a failpoint) is read again, and the re-read counted."""
    stack = stack_factory(
        env={"YUJING_STALL_AFTER_S": "2", "YUJING_FAILPOINT": "lose_handover:yujing.readings.v1"}
    )
    lost = gas("lost-once")
    stack.produce(lost, gas("ok-after", 1.0))
    assert_one_alert_and_one_order_each(stack, [lost])
    assert reseeks(stack.tmp / "worker.log") >= 1
    text = stack.metrics()
    samples = [
        line
        for line in text.splitlines()
        if line.startswith("yujing_offset_reseeks_total{") and 'topic="yujing.readings.v1"' in line
    ]
    assert samples and sum(float(s.split()[-1]) for s in samples) >= 1.0, samples
    assert "failpoint lose_handover" in (stack.tmp / "worker.log").read_text()


ALARMS = 6  # alarms in the batch: its detect event leaves six signals in flight


def one_partition(prefix: str, n: int, partitions: int) -> list[str]:
    """``n`` sensor ids that fall in partition 0, as a gateway batches them."""
    found: list[str] = []
    k = 0
    while len(found) < n:
        sensor = f"{prefix}-{k}"
        if partition_of(sensor.encode(), partitions) == 0:
            found.append(sensor)
        k += 1
    return found


def batch(cycle: int, partitions: int) -> tuple[ReadingBatch, list[SensorReading]]:
    sensors = one_partition(f"flight{cycle}", ALARMS + 20, partitions)
    alarms = [gas(s) for s in sensors[:ALARMS]]
    quiet = [gas(s, 1.0) for s in sensors[ALARMS:]]
    readings = [*quiet[:10], *alarms, *quiet[10:]]
    record = ReadingBatch(
        batch_id=f"flight-batch-{cycle}",
        gateway_id="gw-test",
        sensor_group=readings[0].sensor_id,
        event_time=datetime.now(UTC),
        readings=readings,
    )
    return record, alarms


def test_a_kill_9_with_a_batch_outputs_in_flight_loses_and_doubles_nothing(
    stack_factory,
) -> None:
    env = {"YUJING_STALL_AFTER_S": "5", "YUJING_FAILPOINT": "die_with_outputs_in_flight:3"}
    stack: Stack = stack_factory(env=env)
    partitions = int(stack.env.get("YUJING_PARTITIONS", "2"))
    every: list[SensorReading] = []
    for cycle in range(3):
        record, alarms = batch(cycle, partitions)
        every += alarms
        assert stack.worker is not None
        first = stack.worker
        stack.produce(record)
        wait_for(first.proc.poll, 90, "the worker to die mid-flight")
        assert first.proc.returncode == 137, first.log_tail()
        log = (stack.tmp / "worker.log").read_text(errors="replace")
        assert "failpoint die_with_outputs_in_flight" in log
        del stack.env["YUJING_FAILPOINT"]
        stack.start_worker()
        assert_one_alert_and_one_order_each(stack, alarms)
        # the next cycle dies again, on its own batch
        stack.stop_worker()
        stack.env["YUJING_FAILPOINT"] = env["YUJING_FAILPOINT"]
        stack.start_worker()
    # no alarm lost its signal; one the producer had sent before the kill is read again
    # as the same signal (its id is the reading's), which downstream counts once (above)
    sensors = {r.sensor_id for r in every}
    signals = [s for s in stack.read(SIGNALS, RiskSignal) if s.source_key in sensors]
    ids = {(s.source_key, s.signal_id) for s in signals}
    assert Counter(key for key, _ in ids) == Counter(dict.fromkeys(sensors, 1))
