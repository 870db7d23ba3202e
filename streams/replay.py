"""``yujing replay FILE``: feed a JSONL file of readings and department events into the inputs.

Outside the flow: it produces to its first hop. One event per line, either
plain (a line with ``reading_id`` is a sensor reading, one with ``event_id``
a department event) or wrapped as ``{"reading": {...}}`` /
``{"department_event": {...}}``, or as ``yujing simulate`` writes it:
``{"topic": "yujing.readings.v1", "event": {...}}``. Blank lines and lines starting with ``#`` are
skipped. Every line is validated before anything is sent, so a bad file
sends nothing and the error names the file and the line. Events go out in
file order, keyed by their topic's key field, with one producer: the same file
into fresh topics gives the same partitions, the same order per key, and so
the same alerts with the same ids.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from schemas import DepartmentEvent, Event, SensorReading
from schemas.codec import DecodeError, decode
from schemas.registry import DEPARTMENT_EVENTS, READINGS
from streams.core.config import ConfigError

WRAPPERS: dict[str, type[Event]] = {"reading": SensorReading, "department_event": DepartmentEvent}
BY_TOPIC: dict[str, type[Event]] = {s.name: s.schema for s in (READINGS, DEPARTMENT_EVENTS)}


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
    """Every event of the file, or ``ConfigError`` naming the file and the first bad line."""
    try:
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


def _replay(args: argparse.Namespace) -> int:
    from streams.kafka_io import Producer
    from streams.settings import Settings

    events = load(Path(args.file))
    settings = Settings.from_env()
    bootstrap = args.bootstrap or settings.kafka_bootstrap
    producer = Producer(bootstrap, settings.topic_prefix)
    try:
        n = producer.send_all(events)
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
    r.add_argument("file", help="JSONL: one reading or department event per line")
    r.add_argument("--bootstrap", help="broker (default $YUJING_KAFKA_BOOTSTRAP)")
    r.set_defaults(func=_replay)
