"""``yujing replay FILE``: feed a JSONL file of readings and department events into the inputs.

Outside the flow: it produces to its first hop. One event per line, either
plain (a line with ``reading_id`` is a sensor reading, one with ``event_id``
a department event) or wrapped as ``{"reading": {...}}`` /
``{"department_event": {...}}``, or as ``yujing simulate`` writes it:
``{"topic": "yujing.readings.v1", "event": {...}}`` (or a gateway batch on
``yujing.reading-batches.v1``). Blank lines and lines starting with ``#`` are
skipped. Every line is validated before anything is sent, so a bad file
sends nothing and the error names the file and the line. Events go out in
file order, keyed by their topic's key field, with one producer: the same file
into fresh topics gives the same partitions, the same order per key, and so
the same alerts with the same ids.

``--batch N`` uploads the readings as gateways would, up to N a record
(:mod:`streams.tools.gateway`). ``--speed S`` paces the events by their event
times: ``1`` at recorded speed, ``60`` an hour a minute, ``0`` (the default) as
fast as the broker takes them.
Pacing matters for history: readings of different sensors land in different
partitions, and sent all at once they reach their place's clock in an order
that can put a signal more than the allowed lateness behind the place's
newest, so it is dead-lettered as ``late``; at a pace where the pipeline keeps
up, they arrive as they would have live.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from schemas import DepartmentEvent, Event, SensorReading
from schemas.codec import DecodeError, decode
from schemas.registry import DEPARTMENT_EVENTS, READING_BATCHES, READINGS
from streams.core.shared.config import ConfigError

WRAPPERS: dict[str, type[Event]] = {"reading": SensorReading, "department_event": DepartmentEvent}
BY_TOPIC: dict[str, type[Event]] = {
    s.name: s.schema for s in (READINGS, READING_BATCHES, DEPARTMENT_EVENTS)
}


def parse_line(text: str) -> Event:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not JSON: {err}") from None
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    if len(obj) == 1 and next(iter(obj)) in WRAPPERS:
        name, inner = next(iter(obj.items()))
        schema, raw = WRAPPERS[name], json.dumps(inner)
    elif set(obj) == {"topic", "event"}:  # the format `yujing simulate` writes
        topic = obj["topic"]
        if topic not in BY_TOPIC:
            raise ValueError(f"topic {topic!r} is not an input topic; one of {sorted(BY_TOPIC)}")
        schema, raw = BY_TOPIC[topic], json.dumps(obj["event"])
    elif "reading_id" in obj:
        schema, raw = SensorReading, text
    elif "event_id" in obj:
        schema, raw = DepartmentEvent, text
    else:
        raise ValueError(
            "neither a reading (reading_id) nor a department event (event_id); "
            'or wrap it as {"reading": ...} / {"department_event": ...}'
        )
    try:
        return decode(schema, raw.encode(), max_bytes=1 << 20)
    except DecodeError as err:
        raise ValueError(err.detail) from None


def load(path: Path) -> list[Event]:
    """Every event of the file (``-``: standard input), or ``ConfigError`` naming the
    file and the first bad line."""
    try:
        if str(path) == "-":
            lines = sys.stdin.read().splitlines()
        else:
            lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8: {err}") from None
    events = []
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            events.append(parse_line(line))
        except ValueError as err:
            raise ConfigError(f"{path}:{n}: {err}") from None
    return events


def schedule(events: list[Event], speed: float) -> list[float]:
    """Seconds after the start at which to send each event, paced by ``speed``.

    The first event goes at once; each next one when its event time, divided by
    ``speed``, is due, and never before the previous one (an event older than
    the one before it in the file goes right after it). ``speed`` 0: all at once.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> ev = [SensorReading(reading_id=f"r{m}", sensor_id="s", sensor_kind="k", place_id="p",
    ...                     value=1.0, event_time=t + timedelta(minutes=m)) for m in (0, 60, 30)]
    >>> schedule(ev, 60)
    [0.0, 60.0, 60.0]
    >>> schedule(ev, 0)
    [0.0, 0.0, 0.0]
    """
    if speed < 0:
        raise ConfigError(f"replay: --speed must be >= 0, got {speed:g}")
    if not events or speed == 0:
        return [0.0] * len(events)
    start = events[0].event_time
    out: list[float] = []
    for e in events:
        due = (e.event_time - start).total_seconds() / speed
        out.append(max(due, out[-1] if out else 0.0))
    return out


def _replay(args: argparse.Namespace) -> int:
    import time

    from streams.runtime.kafka_io import Producer, ensure_topics
    from streams.runtime.settings import Settings

    events = load(Path(args.file))
    settings = Settings.from_env()
    if args.batch:
        from streams.tools.gateway import batched

        events = batched(events, settings.partitions, args.batch, gateway_id="yujing-replay")
    due = schedule(events, args.speed)
    bootstrap = args.bootstrap or settings.kafka_bootstrap
    # the topics as the worker makes them, never the broker's one-partition default
    security = settings.kafka_security
    ensure_topics(
        bootstrap,
        settings.topic_prefix,
        settings.partitions,
        settings.replication_factor,
        security=security,
    )
    producer = Producer(bootstrap, settings.topic_prefix, security=security)
    try:
        if args.speed == 0:
            n = producer.send_all(events)
        else:
            t0 = time.monotonic()
            for e, at in zip(events, due, strict=True):
                wait = t0 + at - time.monotonic()
                if wait > 0:
                    producer.flush()  # what is due goes out before we sleep
                    time.sleep(wait)
                producer.send(e)
            producer.flush()
            n = len(events)
    finally:
        producer.close()
    counts: dict[str, Any] = {}
    for e in events:
        counts[type(e).__name__] = counts.get(type(e).__name__, 0) + 1
    print(f"replayed {n} events from {args.file} into {bootstrap}: {counts}")
    return 0


def add_replay_command(sub: Any) -> None:
    r = sub.add_parser(
        "replay", help="feed a JSONL file of readings and department events into the input topics"
    )
    r.add_argument("file", help="JSONL: one reading or department event per line ('-': stdin)")
    r.add_argument("--bootstrap", help="broker (default $YUJING_KAFKA_BOOTSTRAP)")
    r.add_argument(
        "--speed",
        type=float,
        default=0.0,
        help="pace by event time: 1 = recorded speed, 60 = an hour a minute, 0 = all at once",
    )
    from streams.tools.gateway import batch_size

    r.add_argument(
        "--batch",
        type=batch_size,
        default=0,
        metavar="N",
        help="send readings in gateway batches of up to N (1-500) to yujing.reading-batches.v1 "
        "(default 0: one record each)",
    )
    r.set_defaults(func=_replay)
