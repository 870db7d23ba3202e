"""``yujing tail TOPIC``: the operator's live view of a topic, in a terminal.

(… → **alert** → **order** → breach / status.) Alerts, dispatch orders, SLA
breaches and order status are printed as they arrive, one readable block
each: what, where, how bad, and the alert's portrait summary; any other
topic prints its events as compact JSON. Filters narrow it to a scope:
``--place`` (a place id or a prefix of one), ``--town``, ``--module`` and
``--level`` (that level and worse). Orders, breaches and status changes carry
only their alert's id, so when a filter is given the tail also reads the alerts
topic from the beginning and judges them by their alert's scope.

Outside the event flow: it only reads (kafka-python, no consumer group, so it
never moves anyone's offsets).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from schemas import Alert, DispatchOrder, Event, OrderStatus, SlaBreach
from schemas.codec import DecodeError, decode
from schemas.registry import ALERTS, TOPICS, TopicSpec
from streams.core.shared.config import ConfigError
from streams.runtime.kafka_security import PLAINTEXT, KafkaSecurity

LEVELS = ("low", "medium", "high", "critical")
ALIASES = {
    "alerts": "yujing.alerts.v1",
    "orders": "yujing.dispatch-orders.v1",
    "breaches": "yujing.sla-breaches.v1",
    "status": "yujing.order-status.v1",
    "signals": "yujing.signals.v1",
    "dead-letters": "yujing.dead-letters.v1",
    "notifications": "yujing.notifications.v2",
    "receipts": "yujing.notification-receipts.v1",
    "readings": "yujing.readings.v1",
}
_COLOR = {"low": "36", "medium": "33", "high": "31", "critical": "1;41;97", "breach": "1;35"}


def resolve_topic(name: str) -> TopicSpec:
    """A registry topic from its full name, its short name or an alias."""
    full = ALIASES.get(name, name)
    if full not in TOPICS:
        full = f"yujing.{name}.v1"
    if full not in TOPICS:
        known = ", ".join(sorted(ALIASES) + sorted(TOPICS))
        raise ConfigError(f"tail: unknown topic {name!r}; one of: {known}")
    return TOPICS[full]


def town_of(place_id: str, labels: dict[str, str] | None = None) -> str:
    """The town of a place: its ``town`` label, else the place id's second segment.

    >>> town_of("site.liangzhu.c01.restaurant-01")
    'liangzhu'
    >>> town_of("gas-0001", {"town": "renhe"})
    'renhe'
    """
    if labels and labels.get("town"):
        return labels["town"]
    parts = place_id.split(".")
    return parts[1] if len(parts) > 2 else ""


@dataclass(frozen=True)
class Scope:
    """What an operator watches; an empty field matches everything."""

    place: str = ""
    town: str = ""
    module: str = ""
    level: str = ""

    def __post_init__(self) -> None:
        if self.level and self.level not in LEVELS:
            raise ConfigError(f"tail: --level must be one of {', '.join(LEVELS)}")

    @property
    def any(self) -> bool:
        return bool(self.place or self.town or self.module or self.level)

    def matches(self, alert: Alert) -> bool:
        if self.place and not alert.scope.startswith(self.place):
            return False
        if self.town and town_of(alert.scope, alert.labels) != self.town:
            return False
        if self.module and alert.module != self.module:
            return False
        return not (self.level and LEVELS.index(alert.level) < LEVELS.index(self.level))


class Formatter:
    """Readable blocks for operators; ``color`` adds ANSI colours by level."""

    def __init__(self, color: bool = False) -> None:
        self.color = color

    def _c(self, text: str, key: str) -> str:
        code = _COLOR.get(key)
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and code else text

    def format(self, event: Event, alert: Alert | None = None) -> str:
        t = f"{event.event_time:%Y-%m-%d %H:%M:%S%z}"
        if isinstance(event, Alert):
            level = self._c(f"{event.level.upper():<8}", event.level)
            flags = " EMERGENCY" if event.emergency else ""
            flags += " auto-disposable" if event.auto_disposable else ""
            town = town_of(event.scope, event.labels)
            return (
                f"{t}  ALERT {level} {event.kind.value} {event.module}: "
                f"{', '.join(event.risk_points)}{flags}\n"
                f"    where  {event.scope}" + (f" (town {town})" if town else "") + "\n"
                f"    why    {event.summary}\n"
                f"    id     {event.alert_id} v{event.version}, "
                f"{len(event.signal_ids)} signal(s)"
            )
        context = ""
        if alert is not None:
            context = (
                f"\n    alert  [{alert.level}] {alert.module} at {alert.scope}: {alert.summary}"
            )
        if isinstance(event, DispatchOrder):
            due = ", ".join(f"{k} by {v:%m-%d %H:%M}" for k, v in event.deadlines.items())
            mode = " (auto-disposal first)" if event.auto_disposal else ""
            owner = ", ".join(
                f"{k} {v}" for k, v in (("department", event.department), ("town", event.town)) if v
            )
            return (
                f"{t}  ORDER {event.order_id} {event.sla_class.value}{mode}"
                + (f" [{owner}]" if owner else "")
                + "\n"
                f"    to     {event.receiver} ({event.assignee_role}) via "
                f"{', '.join(c.value for c in event.channels) or 'no channel'}; "
                f"escalate to {event.escalate_to}\n"
                f"    due    {due}\n"
                f"    what   {event.summary}" + context
            )
        if isinstance(event, SlaBreach):
            head = self._c("SLA BREACH", "breach")
            who = f" by {event.receiver} ({event.receiver_role})" if event.receiver else ""
            who += f", department {event.department}" if event.department else ""
            return (
                f"{t}  {head} {event.order_id}: stage {event.stage} missed its deadline "
                f"{event.deadline:%m-%d %H:%M:%S}{who} → escalated to {event.escalate_to}" + context
            )
        if isinstance(event, OrderStatus):
            was = f"{event.previous.value} → " if event.previous else ""
            detail = f": {event.detail}" if event.detail else ""
            return (
                f"{t}  STATUS {event.order_id}: {was}{event.state.value} "
                f"({event.cause}){detail}" + context
            )
        return f"{t}  {json.dumps(event.model_dump(mode='json'), ensure_ascii=False)}"


def _alert_id(event: Event) -> str | None:
    return getattr(event, "alert_id", None) if not isinstance(event, Alert) else event.alert_id


class Tail:
    """Decides what to print for each record; keeps the alerts it has seen for context."""

    def __init__(self, spec: TopicSpec, scope: Scope, formatter: Formatter) -> None:
        self.spec, self.scope, self.formatter = spec, scope, formatter
        self.alerts: dict[str, Alert] = {}

    def on_alert(self, alert: Alert) -> None:
        self.alerts[alert.alert_id] = alert

    def render(self, raw: bytes) -> str | None:
        """The block to print for one record of the tailed topic, or None (filtered out)."""
        try:
            event = decode(self.spec.schema, raw)
        except DecodeError as err:
            return None if self.scope.any else f"(undecodable record: {err.reason.value})"
        if isinstance(event, Alert):
            self.on_alert(event)
            return self.formatter.format(event) if self.scope.matches(event) else None
        alert_id = _alert_id(event)
        alert = self.alerts.get(alert_id) if alert_id else None
        if self.scope.any and (alert is None or not self.scope.matches(alert)):
            return None
        return self.formatter.format(event, alert)


def run(
    bootstrap: str,
    prefix: str,
    tail: Tail,
    *,
    from_beginning: bool = False,
    count: int = 0,
    timeout_s: float = 0.0,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
    security: KafkaSecurity = PLAINTEXT,
) -> int:
    """Print matching events until ``count`` were printed or ``timeout_s`` passed (0: forever)."""
    from kafka import KafkaConsumer, TopicPartition

    from streams.runtime.reach import require_broker

    require_broker(bootstrap, security=security)
    topic = prefix + tail.spec.name
    alerts_topic = prefix + ALERTS.name
    with_alerts = tail.spec is not ALERTS
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        **security.kafka_python(),
    )
    try:
        topics = [topic] + ([alerts_topic] if with_alerts else [])
        parts: list[Any] = []
        for name in topics:
            ids = _partitions(consumer, name, err=err)
            parts += [TopicPartition(name, p) for p in sorted(ids)]
        consumer.assign(parts)
        mine = [tp for tp in parts if tp.topic == topic]
        if from_beginning:
            consumer.seek_to_beginning(*mine)
        else:
            consumer.seek_to_end(*mine)
        if with_alerts:
            consumer.seek_to_beginning(*[tp for tp in parts if tp.topic == alerts_topic])
        for tp in parts:
            consumer.position(tp)  # resolve now: "ready" means nothing later is missed
        print(f"tailing {topic} ({len(mine)} partitions); Ctrl-C to stop", file=err, flush=True)
        shown = 0
        deadline = time.monotonic() + timeout_s if timeout_s > 0 else None
        while deadline is None or time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=200)
            records = sorted(
                (r for rs in batch.values() for r in rs), key=lambda r: (r.timestamp, r.offset)
            )
            for r in _alerts_first(records, alerts_topic, tail):
                if r.topic != topic:
                    continue
                block = tail.render(r.value or b"")
                if block is None:
                    continue
                print(block, file=out, flush=True)
                shown += 1
                if count and shown >= count:
                    return 0
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        consumer.close()


def _alerts_first(records: list[Any], alerts_topic: str, tail: Tail) -> Iterable[Any]:
    """Learn this batch's alerts before judging orders that point at them."""
    rest = []
    for r in records:
        if r.topic == alerts_topic and tail.spec is not ALERTS:
            with contextlib.suppress(DecodeError):
                tail.on_alert(decode(Alert, r.value or b""))
        else:
            rest.append(r)
    return rest


def _partitions(
    consumer: Any, topic: str, timeout_s: float = 30.0, err: IO[str] = sys.stderr
) -> set[int]:
    """The topic's partitions, waiting ``timeout_s`` for a worker or producer to create it."""
    deadline = time.monotonic() + timeout_s
    said = False
    while True:
        ids = consumer.partitions_for_topic(topic)
        if ids:
            return set(ids)
        if time.monotonic() > deadline:
            raise ConfigError(
                f"tail: topic {topic!r} does not exist on the broker "
                "(is YUJING_TOPIC_PREFIX the one the worker and the producers use?)"
            )
        if not said and time.monotonic() > deadline - timeout_s + 2:
            print(f"waiting for {topic} to be created…", file=err, flush=True)
            said = True
        time.sleep(0.2)


def add_tail_command(sub: Any) -> None:
    p = sub.add_parser(
        "tail",
        help="live view of a topic: alerts, orders, breaches, status, pretty-printed",
        description=(__doc__ or "").split("\n\n")[1],
    )
    p.add_argument("topic", help=f"a registry topic or one of: {', '.join(ALIASES)}")
    p.add_argument("--place", default="", help="a place id, or a prefix of place ids")
    p.add_argument("--town", default="", help="a town (place id's second segment or label)")
    p.add_argument("--module", default="", help="a catalogue module, e.g. gas_safety")
    p.add_argument("--level", default="", help="this level and worse: low|medium|high|critical")
    p.add_argument("--from-beginning", action="store_true", help="start at the oldest record")
    p.add_argument("--count", type=int, default=0, help="stop after N events (0: never)")
    p.add_argument("--timeout", type=float, default=0.0, help="stop after S seconds (0: never)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.set_defaults(func=_tail)


def _tail(args: argparse.Namespace) -> int:
    from streams.runtime.settings import Settings

    spec = resolve_topic(args.topic)
    scope = Scope(args.place, args.town, args.module, args.level)
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    settings = Settings.from_env()
    bootstrap = settings.kafka_bootstrap
    return run(
        bootstrap,
        settings.topic_prefix,
        Tail(spec, scope, Formatter(color)),
        from_beginning=args.from_beginning,
        count=args.count,
        timeout_s=args.timeout,
        security=settings.kafka_security,
    )


__all__ = ["Formatter", "Scope", "Tail", "add_tail_command", "resolve_topic", "town_of"]
