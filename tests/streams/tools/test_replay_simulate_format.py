"""``yujing replay`` reads what ``yujing simulate`` writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas import DepartmentEvent, SensorReading
from streams.core.shared.config import ConfigError
from streams.tools.replay import load


def test_replay_reads_the_simulate_format(tmp_path: Path) -> None:
    reading = {
        "reading_id": "r1",
        "sensor_id": "s1",
        "sensor_kind": "gas_lel",
        "place_id": "p1",
        "value": 3.0,
        "event_time": "2026-01-01T00:00:00+00:00",
    }
    record = {
        "event_id": "e1",
        "department": "police",
        "event_type": "dispute_call",
        "place_id": "p1",
        "event_time": "2026-01-01T00:00:00+00:00",
    }
    path = tmp_path / "sim.jsonl"
    path.write_text(
        json.dumps({"topic": "yujing.readings.v1", "event": reading})
        + "\n"
        + json.dumps({"topic": "yujing.department-events.v1", "event": record})
        + "\n"
    )
    events = load(path)
    assert [type(e) for e in events] == [SensorReading, DepartmentEvent]
    assert events[0].reading_id == "r1" and events[1].event_id == "e1"


def test_replay_refuses_a_non_input_topic_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "sim.jsonl"
    path.write_text(json.dumps({"topic": "yujing.alerts.v1", "event": {}}) + "\n")
    with pytest.raises(ConfigError, match=r"sim\.jsonl:1: topic 'yujing\.alerts\.v1'"):
        load(path)
