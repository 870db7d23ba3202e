"""The outcome of a district day: waiting for the pipeline to finish, and the day's figures.

(... → notification → **report**.) After the day's clock has stopped, the
workers finish what is in flight: :func:`drained` says when their consumer
group has committed every record of every topic it reads (the ticks aside:
they keep coming, judging nothing new on a stopped clock). Then the report is
computed from the topics, the stubs and the ground truth
(:func:`streams.tools.report.figures.compute`), and :func:`day_line` adds what only the
day knows: the breaches its people made inevitable, what was lost on the way,
and the wall time.

``lost`` adds up everything that entered a hop and never came out of it:
readings and records the simulator had acknowledged by the broker that the
workers never consumed; alerts that page (not inhibited) without an order;
orders without a notification; notifications the stubs never accepted.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from schemas.registry import DEPARTMENT_EVENTS, READINGS, TICKS, TOPICS
from streams.runtime.kafka_security import PLAINTEXT, KafkaSecurity
from streams.tools.report.figures import SYSTEMIC_KINDS, Topics

Json = dict[str, Any]
#: the district-day line's keys, in order (issue 10)
KEYS = (
    "sensors",
    "incidents",
    "alerts",
    "orders",
    "auto_disposed_ratio",
    "auto_disposed_per_day",
    "recall",
    "false_alerts_per_1000_sensor_days",
    "systemic_alerts",
    "systemic_matched",
    "compound_alerts",
    "groups_detected",
    "sla_breaches_expected",
    "sla_breaches_observed",
    "lost",
    "duplicate_notifications",
    "wall_s",
)


def group_lag(
    bootstrap: str, group: str, prefix: str, *, security: KafkaSecurity = PLAINTEXT
) -> dict[str, int]:
    """Per registry topic the group reads: records not yet committed (ticks aside)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **security.kafka_python())
    try:
        committed = _committed(bootstrap, group, security)
        names = {prefix + n: n for n in TOPICS if n != TICKS.name}
        parts = [
            TopicPartition(t, p)
            for t in names
            for p in sorted(consumer.partitions_for_topic(t) or ())
            if names[t] in (READINGS.name, DEPARTMENT_EVENTS.name)
            or any(tp.topic == t for tp in committed)
        ]
        ends = consumer.end_offsets(parts) if parts else {}
        lag: dict[str, int] = {}
        for tp, end in ends.items():
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag[names[tp.topic]] = lag.get(names[tp.topic], 0) + max(0, end - done)
        return lag
    finally:
        consumer.close()


def consumed(
    bootstrap: str,
    group: str,
    prefix: str,
    names: Iterable[str],
    *,
    security: KafkaSecurity = PLAINTEXT,
) -> int:
    """Records of ``names`` the group has committed (from the topics' start)."""
    committed = _committed(bootstrap, group, security)
    wanted = {prefix + n for n in names}
    return sum(max(0, m.offset) for tp, m in committed.items() if tp.topic in wanted)


def _committed(bootstrap: str, group: str, security: KafkaSecurity) -> dict[TopicPartition, Any]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **security.kafka_python())
    try:
        return dict(admin.list_group_offsets(group).get(group, {}))
    finally:
        admin.close()


def drained(
    bootstrap: str,
    group: str,
    prefix: str,
    *,
    timeout_s: float,
    settle_s: float = 3.0,
    security: KafkaSecurity = PLAINTEXT,
) -> tuple[bool, dict[str, int]]:
    """Wait until the group's lag is 0 on every topic it reads and stays so ``settle_s``."""
    deadline = time.monotonic() + timeout_s
    zero_since: float | None = None
    lag: dict[str, int] = {}
    while time.monotonic() < deadline:
        lag = group_lag(bootstrap, group, prefix, security=security)
        if not any(lag.values()):
            zero_since = zero_since or time.monotonic()
            if time.monotonic() - zero_since >= settle_s:
                return True, lag
        else:
            zero_since = None
        time.sleep(0.5)
    return False, lag


def lost(
    topics: Topics, figures: Json, sent: int, consumed_inputs: int, period_orders: set[str]
) -> dict[str, int]:
    """The parts of ``lost`` (module docstring), each a count."""
    alerts = figures["alerts"]
    notified = {n.order_id for n in topics.notifications}
    stubs = figures["notifications"]["stubs"] or {}
    return {
        "inputs_not_consumed": max(0, sent - consumed_inputs),
        "alerts_without_order": int(alerts["without_order"]),
        "orders_without_notification": len(period_orders - notified),
        "notifications_not_accepted": int(stubs.get("requested_not_accepted", 0)),
    }


def day_line(figures: Json, expected: int, lost_parts: Mapping[str, int], wall_s: float) -> Json:
    """The one JSON object a district day ends with: exactly :data:`KEYS`."""
    s = figures["summary"]
    line = {
        "sensors": s["sensors"],
        "incidents": s["incidents"],
        "alerts": s["alerts"],
        "orders": s["orders"],
        "auto_disposed_ratio": _round(s["auto_disposed_ratio"]),
        "auto_disposed_per_day": _round(s["auto_disposed_per_day"], 1),
        "recall": _round(s["recall"]),
        "false_alerts_per_1000_sensor_days": _round(s["false_alerts_per_1000_sensor_days"]),
        "systemic_alerts": {k: s["systemic_alerts"].get(k, 0) for k in SYSTEMIC_KINDS},
        # alerts that detect an injected group of their kind (the strict ground truth)
        "systemic_matched": {k: s["systemic_matched"].get(k, 0) for k in SYSTEMIC_KINDS},
        "compound_alerts": s["compound_alerts"],
        # per group kind injected: "detected/injected"
        "groups_detected": s["groups_detected"],
        "sla_breaches_expected": expected,
        "sla_breaches_observed": s["sla_breaches_observed"],
        "lost": sum(lost_parts.values()),
        "duplicate_notifications": s["duplicate_notifications"],
        "wall_s": round(wall_s, 1),
    }
    assert tuple(line) == KEYS
    return line


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


__all__ = ["KEYS", "consumed", "day_line", "drained", "group_lag", "lost"]
