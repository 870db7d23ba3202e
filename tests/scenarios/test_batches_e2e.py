"""Gateway batches on the real broker: the same signals as single readings, bad ones alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from support import Stack

from schemas import DeadLetter, ReadingBatch, RiskSignal, SensorReading
from schemas.codec import encode
from schemas.registry import DEAD_LETTERS, READING_BATCHES, SIGNALS
from streams.runtime.kafka_io import Producer
from streams.runtime.partitioning import partition_of
from streams.tools.simulate.simulation import District, Simulation

pytestmark = pytest.mark.integration

SLICE = {"towns": 1, "communities": 2, "cells": 2, "sites": 4}
DAY = {"hours": 4.0, "incidents": 8, "seed": 5}


def comparable(signals: list[RiskSignal], reading_ids: set[str]) -> list[dict[str, Any]]:
    """The sensors' signals without their processing time, in a stable order."""
    out = [
        s.model_dump(mode="json", exclude={"detected_at"})
        for s in signals
        if set(s.source_event_ids) <= reading_ids
    ]
    return sorted(out, key=lambda d: d["signal_id"])


def stage_done(stack: Stack, stage: str) -> float:
    return stack.metric("yujing_stage_seconds_count", {"stage": stage})


def batch_readings(stack: Stack) -> float:
    for line in stack.metrics().splitlines():
        if line.startswith("yujing_batch_readings_total "):
            return float(line.split()[-1])
    return 0.0


def test_batches_raise_exactly_the_signals_of_single_readings(
    stack_factory: Callable[..., Stack],
) -> None:
    sim = Simulation(District(**SLICE, **DAY))  # type: ignore[arg-type]
    readings = [e for e in sim.events() if isinstance(e, SensorReading)]
    ids = {r.reading_id for r in readings}
    assert len(readings) > 5_000

    singles = stack_factory()
    producer = Producer(singles.bootstrap, singles.prefix)
    producer.send_all(readings)
    producer.close()
    singles.wait_for(
        lambda: stage_done(singles, "detect") >= len(readings), 300, "every single reading"
    )
    want = comparable(singles.read(SIGNALS, RiskSignal), ids)
    assert len(want) >= 3, "the sensors' incidents were detected: there is something to compare"

    batches = stack_factory()
    args = [f"--{k}={v}" for k, v in {**SLICE, **DAY}.items()]
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "simulate", *args, "--kafka", "--batch", "100"],
        env={**os.environ, **batches.env, "YUJING_PARTITIONS": "2"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    batches.wait_for(
        lambda: batch_readings(batches) >= len(readings),
        300,
        "every reading of the batches",
    )
    records = batches.metric("yujing_events_in_total", {"topic": READING_BATCHES.name})
    assert 0 < records < len(readings) / 10
    batches.wait_for(
        lambda: stage_done(batches, "detect.reading-batches") >= records, 60, "every batch done"
    )
    got = comparable(batches.read(SIGNALS, RiskSignal), ids)
    assert got == want
    refused = [d for d in batches.read(DEAD_LETTERS, DeadLetter) if "reading" in d.source_topic]
    assert refused == []  # (signals that reach their place late downstream are another matter)


def test_a_bad_or_misplaced_reading_is_dead_lettered_alone(
    make_stack_env: Callable[..., Stack],
) -> None:
    stack = make_stack_env()
    sensors = [f"gas-b{i:03d}" for i in range(50)]
    home = [s for s in sensors if partition_of(s.encode(), 2) == 0]
    away = [s for s in sensors if partition_of(s.encode(), 2) == 1]
    now = datetime.now(UTC).replace(microsecond=0)

    def reading(i: int, sensor: str, value: float) -> SensorReading:
        return SensorReading(
            reading_id=f"rb-{i}",
            sensor_id=sensor,
            sensor_kind="gas_lel",
            place_id="site.bench.batch-1",
            value=value,
            unit="%LEL",
            event_time=now,
        )

    batch = ReadingBatch(
        batch_id="up-1",
        gateway_id="gw-1",
        sensor_group=home[0],
        readings=[reading(0, home[0], 31.0), reading(1, home[1], 2.0), reading(2, away[0], 2.0)],
        event_time=now,
    )
    doc = json.loads(encode(batch))
    doc["readings"][1]["value"] = "high"
    producer = Producer(stack.bootstrap, stack.prefix)
    producer.send_raw(READING_BATCHES.name, json.dumps(doc).encode(), key=home[0].encode())
    producer.flush()
    producer.close()

    letters = stack.wait_for(
        lambda: len(d := stack.read(DEAD_LETTERS, DeadLetter)) >= 2 and d, 60, "two dead letters"
    )
    assert sorted((d.item, d.reason.value) for d in letters) == [(1, "schema"), (2, "wrong_key")]
    assert all(d.source_topic == stack.prefix + READING_BATCHES.name for d in letters)
    assert len({d.dead_letter_id for d in letters}) == 2
    signals = stack.wait_for(lambda: stack.read(SIGNALS, RiskSignal), 60, "the alarm's signal")
    assert [s.source_event_ids for s in signals] == [["rb-0"]]
