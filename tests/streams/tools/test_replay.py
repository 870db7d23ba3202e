"""``yujing replay``: file parsing (no broker) and feeding the input topics (real broker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from schemas import DepartmentEvent, SensorReading
from schemas.codec import decode
from schemas.registry import DEPARTMENT_EVENTS, READINGS
from streams.core.shared.config import ConfigError
from streams.runtime.kafka_io import ensure_topics, read_topic
from streams.tools.replay import load

READING = {
    "reading_id": "r-1",
    "sensor_id": "gas-1",
    "sensor_kind": "gas_lel",
    "place_id": "site.restaurant.wuchang-01",
    "value": 30.0,
    "event_time": "2026-10-01T08:05:00+00:00",
}
RECORD = {
    "event_id": "e-1",
    "department": "fire",
    "event_type": "fire_inspection_failed",
    "place_id": "site.restaurant.wuchang-01",
    "event_time": "2026-10-01T08:06:00+08:00",
}


def test_plain_and_wrapped_lines_comments_and_blanks(tmp_path: Path) -> None:
    f = tmp_path / "day.jsonl"
    f.write_text(
        "# a day\n"
        + json.dumps(READING)
        + "\n\n"
        + json.dumps({"department_event": RECORD})
        + "\n"
        + json.dumps({"reading": {**READING, "reading_id": "r-2"}})
        + "\n"
    )
    events = load(f)
    assert [type(e).__name__ for e in events] == [
        "SensorReading",
        "DepartmentEvent",
        "SensorReading",
    ]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("{oops", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"value": 1}', "neither a reading"),
        (json.dumps({**READING, "value": "high"}), "value: Input should be a valid number"),
        (json.dumps({**READING, "event_time": "2026-10-01T08:05:00"}), "event_time"),
    ],
)
def test_a_bad_line_names_the_file_and_line(tmp_path: Path, line: str, why: str) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps(READING) + "\n" + line + "\n")
    with pytest.raises(ConfigError, match=rf"bad.jsonl:2: .*{why}"):
        load(f)


def test_cli_reports_a_bad_file_and_sends_nothing(tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps(READING) + "\n{oops\n")
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "replay", str(f), "--bootstrap", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "bad.jsonl:2: not JSON" in proc.stderr


@pytest.mark.integration
def test_replay_feeds_the_input_topics_in_order(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    ensure_topics(kafka_bootstrap, prefix, partitions=2)
    f = tmp_path / "day.jsonl"
    f.write_text(json.dumps(READING) + "\n" + json.dumps(RECORD) + "\n")
    env = {"YUJING_TOPIC_PREFIX": prefix, "YUJING_KAFKA_BOOTSTRAP": kafka_bootstrap}
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "replay", str(f)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert proc.returncode == 0, proc.stderr
    readings = read_topic(kafka_bootstrap, prefix + READINGS.name, min_count=1)
    records = read_topic(kafka_bootstrap, prefix + DEPARTMENT_EVENTS.name, min_count=1)
    assert [r.key for r in readings] == [b"gas-1"]
    assert decode(SensorReading, readings[0].value).reading_id == "r-1"
    assert decode(DepartmentEvent, records[0].value).event_id == "e-1"
