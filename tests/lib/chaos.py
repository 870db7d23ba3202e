"""The chaos suite's harness: a simulated district's stream, what it must become, and the check.

Kafka's own system tests copy records through hard bounces and then compare the
input set with the output set. Here the input is ``yujing simulate``'s stream (a
slice of the district, with incidents and sensor faults, its ground truth
beside it) and the output set it must become is worked out from it offline, by
the same detection core the worker runs (:class:`Expected`): every risk signal
it raises, so every single-risk alert (ids are deterministic), each paged once.
A fault-free run and a run with faults must both end with exactly that.

:func:`check` then judges a stack once it has settled (lag 0 with nothing in
flight, ``Stack.settle``), and fails if it saw nothing:

- every expected single alert is on the alerts topic, no other single alert is,
  and no alert id carries two contents at one version;
- every one of them has exactly one dispatch order, unless a systemic alert
  covered it before it was paged (then none);
- every notification requested has a receipt or a dead letter (``undeliverable``);
- no provider accepted one idempotency key twice;
- no (order, stage) has two SLA breaches, and every order still open has one for
  each stage whose deadline has passed.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka.errors import KafkaError
from support import Stack, committed_offsets, end_offsets, kafka_security, read_all, wait_for

from schemas import (
    Alert,
    DeadLetter,
    DepartmentEvent,
    DispatchOrder,
    NotificationReceipt,
    NotificationRequest,
    OrderStatus,
    RiskSignal,
    SensorReading,
    SlaBreach,
)
from schemas.base import Event
from schemas.codec import decode
from schemas.registry import (
    ALERTS,
    DEAD_LETTERS,
    DISPATCH_ORDERS,
    NOTIFICATIONS,
    ORDER_STATUS,
    READINGS,
    RECEIPTS,
    SLA_BREACHES,
)
from streams.core.alerts.single import alert_id_for
from streams.core.shared.catalogue import load_catalogue
from streams.core.signals.detect import Conflict, Detection
from streams.core.signals.live import Live
from streams.runtime.kafka_io import Producer
from streams.tools.replay import load

#: Each scenario's figures, printed together at the end of the run (tests/chaos/conftest.py).
REPORTED: list[str] = []

#: A slice of the district: 1 town, 2 communities of 2 grid cells and 2 sites each.
SLICE = ["--towns", "1", "--communities", "2", "--cells", "2", "--sites", "2"]


@dataclass
class Workload:
    """A simulated stream (readings and department records, in order) and its truth file."""

    events: list[Event]
    truth: Path

    @property
    def readings(self) -> int:
        return sum(isinstance(e, SensorReading) for e in self.events)


#: Where every simulated stream starts: fixed, so a seed gives the same stream on any day
#: (in the past of any worker's clock, so every time is plausible).
START = datetime(2026, 6, 1, tzinfo=UTC)


def simulate(tmp: Path, *, hours: float, incidents: int, seed: int) -> Workload:
    """``yujing simulate`` of the slice from :data:`START` for ``hours``."""
    start = START
    out = tmp / f"sim-{seed}.jsonl"
    args = [*SLICE, "--hours", str(hours), "--incidents", str(incidents), "--seed", str(seed)]
    args += ["--regional", "0", "--industry", "0", "--compound", "0"]
    args += ["--start", start.isoformat(), "--out", str(out), "--quiet"]
    subprocess.run(
        [sys.executable, "-m", "streams.cli", "simulate", *args],
        check=True,
        capture_output=True,
    )
    return Workload(load(out), out.with_suffix(".truth.jsonl"))


@dataclass
class Expected:
    """What the detection core raises on a stream, as the worker runs it (per key, in order)."""

    signals: set[str] = field(default_factory=set)

    @property
    def single_alerts(self) -> set[str]:
        return {alert_id_for(s) for s in self.signals}

    @classmethod
    def of(cls, events: Iterable[Event]) -> Expected:
        detection = Detection(load_catalogue(), seed=0)
        now = datetime.now(UTC)
        live: dict[str, Live] = {}
        places: dict[str, str | None] = {}
        found = cls()
        for e in events:
            if isinstance(e, SensorReading):
                key = live.setdefault(e.sensor_id, Live({}))
                seen = detection.observe_many([e], lambda _, key=key: key, now)
                found.signals |= {o.signal_id for o in seen.outputs if isinstance(o, RiskSignal)}
            elif isinstance(e, DepartmentEvent):
                try:
                    obs = detection.observe_record(e, places.get(e.place_id), now)
                except Conflict:
                    continue
                places[e.place_id] = obs.state
                found.signals |= {s.signal_id for s in obs.signals}
        return found


def produce(stack: Stack, events: Iterable[Event]) -> int:
    """Every event to its topic, keyed as the registry says; flushed (acks from all replicas)."""
    producer = Producer(stack.bootstrap, stack.prefix, security=kafka_security())
    try:
        return producer.send_all(events)
    finally:
        producer.close()


def progress(stack: Stack) -> float:
    """The share of the readings topic the workers have committed (0..1)."""
    topic = stack.prefix + READINGS.name
    ends = end_offsets(stack.bootstrap, [topic])
    done = committed_offsets(stack.bootstrap, stack.group)
    total = sum(ends.values())
    return sum(min(done.get(tp, 0), n) for tp, n in ends.items()) / total if total else 0.0


def wait_progress(stack: Stack, share: float, timeout: float = 120.0) -> float:
    """Until the workers have committed at least ``share`` of the readings; the share then."""
    reached: list[float] = []

    def there() -> bool:
        try:
            reached[:] = [progress(stack)]
        except KafkaError:  # a broker of the cluster is down on purpose: ask again
            return False
        return reached[0] >= share

    wait_for(there, timeout, f"{share:.0%} of the readings committed")
    return reached[0]


def dead_letters(stack: Stack) -> list[DeadLetter]:
    """Every dead letter (one may carry up to ``YUJING_MAX_MESSAGE_BYTES`` in base64)."""
    records = read_all(stack.bootstrap, stack.prefix + DEAD_LETTERS.name)
    return [decode(DeadLetter, r.value, max_bytes=4 << 20) for r in records]


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def accepted_keys(stack: Stack) -> list[str]:
    """Every idempotency key the SMS and voice providers accepted (a repeat is a duplicate)."""
    keys = [m["idempotency_key"] for m in _get(f"{stack.sms}/v1/messages")["messages"]]
    return keys + [c["idempotency_key"] for c in _get(f"{stack.voice}/v1/calls")["calls"]]


@dataclass
class Figures:
    """What one run produced, for the suite's table."""

    readings: int
    signals: int
    alerts: int
    orders: int
    notifications: int
    breaches: int
    dead_letters: dict[str, int]
    seconds: float

    def line(self, name: str) -> str:
        dead = ", ".join(f"{k} {v}" for k, v in sorted(self.dead_letters.items())) or "none"
        return (
            f"{name}: {self.readings} readings → {self.signals} signals, {self.alerts} single "
            f"alerts, {self.orders} orders, {self.notifications} notifications, "
            f"{self.breaches} breaches; lost 0, duplicates 0; dead letters: {dead}; "
            f"{self.seconds:.0f} s"
        )


def check(stack: Stack, load_: Workload, expected: Expected, started: float) -> Figures:
    """Judge a settled stack against ``expected`` (see the module); its figures."""
    stack.settle()
    want = expected.single_alerts
    assert want, "the workload raises no alert: the check would prove nothing"
    alerts = stack.read(ALERTS, Alert, timeout_s=5.0)
    singles = [a for a in alerts if a.kind.value == "single"]
    got = {a.alert_id for a in singles}
    unexpected = [a for a in singles if a.alert_id not in want]
    assert not unexpected, "single alerts nobody expected: " + "; ".join(
        f"{a.alert_id} {a.risk_points} {a.source_keys} at {a.window_start or a.event_time}"
        for a in unexpected[:5]
    )
    assert want - got == set(), f"LOST: expected single alerts missing: {sorted(want - got)[:5]}"
    contents: dict[tuple[str, int], set[str]] = defaultdict(set)
    for a in alerts:
        contents[(a.alert_id, a.version)].add(a.model_dump_json())
    two = {k: len(v) for k, v in contents.items() if len(v) > 1}
    assert two == {}, f"an alert id carries two contents at one version: {two}"
    covered = {a.alert_id for a in singles if a.inhibited_by}
    orders = stack.read(DISPATCH_ORDERS, DispatchOrder, timeout_s=5.0)
    per_alert: dict[str, set[str]] = defaultdict(set)
    for o in orders:
        per_alert[o.alert_id].add(o.order_id)
    doubled = {a: len(ids) for a, ids in per_alert.items() if len(ids) > 1}
    assert doubled == {}, f"an alert paged twice: {doubled}"
    unpaged = {a for a in want if a not in per_alert} - covered
    assert unpaged == set(), f"LOST: alerts without an order: {sorted(unpaged)[:5]}"
    requested = {n.notification_id for n in stack.read(NOTIFICATIONS, NotificationRequest)}
    receipted = {r.notification_id for r in stack.read(RECEIPTS, NotificationReceipt)}
    letters = dead_letters(stack)
    undeliverable = {
        decode(NotificationRequest, base64.b64decode(d.payload_b64)).notification_id
        for d in letters
        if d.source_topic.endswith(NOTIFICATIONS.name)
    }
    assert requested, "no notification was requested: the check would prove nothing"
    lost = requested - receipted - undeliverable
    assert lost == set(), f"LOST: notifications with no receipt: {sorted(lost)[:5]}"
    keys = Counter(accepted_keys(stack))
    assert {k: n for k, n in keys.items() if n > 1} == {}, "a provider accepted a key twice"
    breaches = stack.read(SLA_BREACHES, SlaBreach)
    per_stage = Counter((b.order_id, b.stage) for b in breaches)
    assert {k: n for k, n in per_stage.items() if n > 1} == {}, "a breach published twice"
    _every_due_breach(stack, orders, set(per_stage))
    return Figures(
        readings=load_.readings,
        signals=len(expected.signals),
        alerts=len(got),
        orders=len({o.order_id for o in orders}),
        notifications=len(requested),
        breaches=len(breaches),
        dead_letters=dict(Counter(d.reason.value for d in letters)),
        seconds=time.monotonic() - started,
    )


def _every_due_breach(
    stack: Stack, orders: list[DispatchOrder], breached: set[tuple[str, str]]
) -> None:
    """Every order nobody moved past ``open`` has one breach per stage already due."""
    moved = {
        s.order_id
        for s in stack.read(ORDER_STATUS, OrderStatus)
        if s.state.value not in ("open", "auto_disposing")
    }
    now = stack.clock() - timedelta(minutes=2)  # ticks and grace still to come
    due = {
        (o.order_id, stage)
        for o in orders
        if o.order_id not in moved
        for stage, deadline in o.deadlines.items()
        if deadline < now
    }
    missing = due - breached
    assert missing == set(), f"LOST: due SLA breaches never published: {sorted(missing)[:5]}"


def report(line: str) -> None:
    """Print a scenario's figures now and in the summary at the end of the run."""
    print(line)
    REPORTED.append(line)
