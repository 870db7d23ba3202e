"""A changelog full of real sensor state, written fast: the ground of chaos scenario T12.

The ``detect`` agent keeps one compact JSON state per sensor in its table
``sensor-detector-state``; :class:`~streams.runtime.live.LiveTable` writes it to the
changelog with the key and the value JSON-serialized by the table's schema (so the
value is a JSON string holding the state) on partition
:func:`~streams.runtime.partitioning.partition_of` of the sensor id. This module
writes a million such records the same way, without running a million readings
through a worker:

- :func:`templates` warms real states with the project's detection core: three days
  of readings every 30 minutes (past the warm-up of the catalogue's learnt detectors:
  96 readings over two days) for a few sensors of every sensor kind of the catalogue,
  the sensor id left as a placeholder (the states remember their readings' ids);
- :func:`fill` gives sensor ``i`` the state of a sensor of its kind, with its own
  id in place of the placeholder, and produces them with aiokafka in full batches
  (uncompressed, as the worker's producer writes).

The history ends at :data:`HISTORY_END`; :func:`burst` is what follows it.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from support import kafka_security

from schemas import SensorReading
from streams.core.signals.detect import Detection
from streams.runtime.partitioning import partition_of

PLACEHOLDER = "@sensor@"
HISTORY_START = datetime(2026, 2, 1, tzinfo=UTC)
EVERY = timedelta(minutes=30)
HISTORY = 144  # three days, one reading every 30 minutes
HISTORY_END = HISTORY_START + HISTORY * EVERY
ALARM_EVERY = timedelta(minutes=2)


def history(kind: str, sensor_id: str, rng: random.Random) -> list[SensorReading]:
    """Three days of a daily cycle with noise (the shape ``test_baseline`` warms with)."""
    level, swing = rng.uniform(2.0, 4.0), rng.uniform(1.0, 2.0)
    return [
        SensorReading(
            reading_id=f"{sensor_id}-h{i:03d}",
            sensor_id=sensor_id,
            sensor_kind=kind,
            place_id=f"cell.{sensor_id}",
            value=level + swing * math.cos(2 * math.pi * i / 48) + rng.gauss(0.0, 0.3),
            event_time=HISTORY_START + i * EVERY,
        )
        for i in range(HISTORY)
    ]


def burst(kind: str, sensor_id: str, value: float = 40.0, n: int = 3) -> list[SensorReading]:
    """``n`` readings far above the history, right after it, at a device's alarm pace (so
    the other sensors, last heard at the history's end, are not silent by the partition's
    clock: the catalogue's dead-man's switches stay quiet)."""
    return [
        SensorReading(
            reading_id=f"{sensor_id}-b{i}",
            sensor_id=sensor_id,
            sensor_kind=kind,
            place_id=f"cell.{sensor_id}",
            value=value,
            event_time=HISTORY_END + i * ALARM_EVERY,
        )
        for i in range(n)
    ]


def lived(detection: Detection, readings: list[SensorReading]) -> str:
    """The state a worker holds for a sensor after ``readings``, one by one."""
    state: str | None = None
    for r in readings:
        state = detection.observe_reading(r, state, r.event_time).state
    assert state is not None
    return state


def templates(
    detection: Detection, kinds: list[str], variants: int, seed: int
) -> dict[str, list[str]]:
    """``variants`` warmed states per sensor kind, the sensor id as :data:`PLACEHOLDER`."""
    rng = random.Random(seed)
    return {
        kind: [lived(detection, history(kind, PLACEHOLDER, rng)) for _ in range(variants)]
        for kind in kinds
    }


def sensor_id(kinds: list[str], i: int) -> str:
    """Sensor ``i``: of kind ``i mod len(kinds)``, its number in the id."""
    return f"{kinds[i % len(kinds)]}-{i:07d}"


def state_of(states: dict[str, list[str]], kinds: list[str], i: int) -> str:
    """The state :func:`fill` writes for sensor ``i`` (its own id in it)."""
    kind = kinds[i % len(kinds)]
    variants = states[kind]
    return variants[(i // len(kinds)) % len(variants)].replace(PLACEHOLDER, sensor_id(kinds, i))


def record(sid: str, state: str) -> tuple[bytes, bytes]:
    """Key and value bytes as the table's JSON schema writes them (sensor ids and states
    are ASCII: ``json.dumps`` and Faust's JSON codec give the same bytes)."""
    return json.dumps(sid).encode(), json.dumps(state).encode()


@dataclass
class Filled:
    """What :func:`fill` wrote."""

    topic: str
    keys: int = 0
    value_bytes: int = 0
    key_bytes: int = 0
    state_chars: int = 0  # of the states themselves (the worker holds them as str)
    seconds: float = 0.0
    per_partition: dict[int, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return self.key_bytes + self.value_bytes


def fill(
    bootstrap: str, topic: str, partitions: int, n: int, states: dict[str, list[str]]
) -> Filled:
    """Write sensors ``0 .. n-1`` with their states to ``topic``, each on its partition."""
    return asyncio.run(_fill(bootstrap, topic, partitions, n, states))


def _records(
    n: int, partitions: int, states: dict[str, list[str]]
) -> Iterator[tuple[int, bytes, bytes, int]]:
    kinds = sorted(states)
    for i in range(n):
        sid, state = sensor_id(kinds, i), state_of(states, kinds, i)
        key, value = record(sid, state)
        yield partition_of(sid.encode(), partitions), key, value, len(state)


async def _fill(
    bootstrap: str, topic: str, partitions: int, n: int, states: dict[str, list[str]]
) -> Filled:
    out = Filled(topic, per_partition=dict.fromkeys(range(partitions), 0))
    started = time.monotonic()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        max_batch_size=1 << 20,
        linger_ms=50,
        **kafka_security().aiokafka(),
    )
    await producer.start()
    try:
        batches = {p: producer.create_batch() for p in range(partitions)}
        sent: list[asyncio.Future[object]] = []
        for partition, key, value, chars in _records(n, partitions, states):
            if batches[partition].append(key=key, value=value, timestamp=None) is None:
                sent.append(
                    await producer.send_batch(batches[partition], topic, partition=partition)
                )
                batches[partition] = producer.create_batch()
                appended = batches[partition].append(key=key, value=value, timestamp=None)
                assert appended is not None, "one record larger than a batch"
            out.keys += 1
            out.key_bytes += len(key)
            out.value_bytes += len(value)
            out.state_chars += chars
            out.per_partition[partition] += 1
        for partition, batch in batches.items():
            if batch.record_count():
                sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)  # every batch acked by the broker
    finally:
        await producer.stop()
    out.seconds = time.monotonic() - started
    return out
