"""Chaos: a worker killed, stopped, or fed poison, while a simulated district streams through.

Each scenario streams one simulated slice of the district (``chaos.simulate``)
through real workers on a real broker, injects its fault, waits until nothing is
in flight, and checks every output against what the stream must become
(``chaos.check``): 0 lost, 0 duplicate notifications, exactly one breach per
(order, stage). Each prints its figures (``docs/operations.md`` has the table).
"""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from chaos import Expected, check, produce, report, simulate, wait_progress
from kafka import KafkaProducer
from support import Stack, committed_offsets, end_offsets

from schemas import ReadingBatch, SensorReading
from schemas.codec import encode
from schemas.registry import DEPARTMENT_EVENTS, READING_BATCHES, READINGS
from streams.core.shared.catalogue import load_catalogue
from streams.core.signals.detect import Detection
from streams.runtime.partitioning import partition_of

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

WATCHDOG = {"YUJING_STALL_AFTER_S": "5"}


def test_t2_kill_9_at_20_50_and_80_percent_loses_and_doubles_nothing(
    stack_factory: Callable[..., Stack], tmp_path: Path
) -> None:
    work = simulate(tmp_path, hours=24, incidents=10, seed=2)
    expected = Expected.of(work.events)
    started = time.monotonic()
    stack = stack_factory(env=WATCHDOG)
    produce(stack, work.events)
    killed_at = [0.0]
    for share in (0.2, 0.5, 0.8):  # each kill after the worker before it has moved on
        # A worker that outran the kills (all readings committed) is killed at 100 %:
        # then the later hops' outputs are what is in flight (CI once waited for 105 %).
        killed_at.append(wait_progress(stack, min(1.0, max(share, killed_at[-1] + 0.05))))
        assert stack.worker is not None
        stack.worker.kill()
        stack.start_worker()
    figures = check(stack, work, expected, started)
    shares = ", ".join(f"{s:.0%}" for s in killed_at[1:])
    report(figures.line("T2 kill -9 x3") + f"; killed at {shares}")


def test_t3_sigterm_is_graceful_and_nothing_is_read_twice(
    stack_factory: Callable[..., Stack], tmp_path: Path
) -> None:
    work = simulate(tmp_path, hours=12, incidents=8, seed=3)
    expected = Expected.of(work.events)
    started = time.monotonic()
    stack = stack_factory(env=WATCHDOG)
    produce(stack, work.events)
    wait_progress(stack, 0.5)
    worker = stack.worker
    assert worker is not None
    assert worker.stop(timeout=60) == 0, worker.log_tail()  # SIGTERM: a clean exit
    stack.worker = None
    topic = stack.prefix + READINGS.name
    ends = end_offsets(stack.bootstrap, [topic])
    done = committed_offsets(stack.bootstrap, stack.group)
    left = sum(n - done.get(tp, 0) for tp, n in ends.items())
    stack.start_worker()
    figures = check(stack, work, expected, started)
    read = stack.metric("yujing_events_in_total", {"topic": READINGS.name})
    # the last commit was the last reading processed: the next worker reads only the rest
    assert read == left, f"read {read:.0f} readings after the stop, {left} were left"
    report(figures.line("T3 SIGTERM") + f"; {left} readings left at the stop, {read:.0f} read")


def _poison(work_events: list, partitions: int) -> tuple[list[tuple[str, bytes, bytes]], Counter]:
    """Every kind of bad input, each on a topic an outside system writes; the count of
    dead letters each must become, by reason."""
    detection = Detection(load_catalogue())
    watched = [
        e for e in work_events if isinstance(e, SensorReading) and detection.watches(e.sensor_kind)
    ]
    last = watched[-1]  # among its sensor's latest readings: an id the sensor remembers
    key = last.sensor_id.encode()
    other = next(
        e.sensor_id
        for e in work_events
        if isinstance(e, SensorReading)
        and partition_of(e.sensor_id.encode(), partitions) != partition_of(key, partitions)
    )
    bad_item = json.loads(encode(last.model_copy(update={"reading_id": "poison-item"})))
    bad_item["value"] = "high"
    batch = json.loads(
        encode(
            ReadingBatch(
                batch_id="poison-batch",
                gateway_id="gw-poison",
                sensor_group=last.sensor_id,
                readings=[last.model_copy(update={"reading_id": f"poison-ok-{i}"}) for i in (1, 2)],
                event_time=last.event_time,
            )
        )
    )
    batch["readings"].insert(1, bad_item)
    far = json.loads(encode(last.model_copy(update={"reading_id": "poison-far"})))
    far["event_time"] = "9999-12-31T23:59:59-12:00"  # the year 10000 in UTC
    far_json = json.dumps(far).encode()
    records = [
        (READINGS.name, key, b'{"reading_id": "poison-not-json", '),
        (READINGS.name, key, encode(last).replace(b'"value":', b'"value":"x","v":')),
        (READINGS.name, key, b'{"pad": "' + b"x" * 900 * 1024 + b'"}'),
        (READINGS.name, other.encode(), encode(last.model_copy(update={"reading_id": "p-k"}))),
        (READINGS.name, key, far_json),
        (READINGS.name, key, encode(last.model_copy(update={"value": last.value + 1.0}))),
        (READINGS.name, key, encode(last)),  # sent again, unchanged: taken once, no letter
        (READING_BATCHES.name, key, json.dumps(batch).encode()),
        (DEPARTMENT_EVENTS.name, b"site.x", b'{"event_id": "poison-record"}'),
    ]
    want = Counter(
        {"not_json": 1, "schema": 3, "too_large": 1, "wrong_key": 1, "implausible_time": 1}
    )
    want["conflict"] = 1
    return records, want


def test_t8_every_poison_kind_becomes_one_dead_letter_and_the_rest_goes_through(
    stack_factory: Callable[..., Stack], tmp_path: Path
) -> None:
    work = simulate(tmp_path, hours=6, incidents=6, seed=8)
    expected = Expected.of(work.events)
    started = time.monotonic()
    stack = stack_factory(env=WATCHDOG)
    produce(stack, work.events)
    records, want = _poison(work.events, partitions=2)
    plain = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", max_request_size=1 << 26)
    squeezed = KafkaProducer(
        bootstrap_servers=stack.bootstrap,
        acks="all",
        compression_type="gzip",
        max_request_size=1 << 26,
    )
    for topic, key, value in records:
        plain.send(stack.prefix + topic, key=key, value=value).get(timeout=30)
    # 2 MB and 20 MB once decompressed: the broker takes them, the worker must not choke
    for size in (2 << 20, 20 << 20):
        value = b'{"pad": "' + b"y" * size + b'"}'
        squeezed.send(stack.prefix + READINGS.name, key=b"big", value=value).get(timeout=60)
    want["too_large"] += 2
    plain.close()
    squeezed.close()
    figures = check(stack, work, expected, started)
    got = Counter(figures.dead_letters)
    assert got == want, f"dead letters {dict(got)}, injected {dict(want)}"
    assert gzip  # the producer's codec: imported so a missing zlib fails here, loudly
    report(figures.line("T8 poison") + f"; injected {sum(want.values())}")


def test_t10_no_agent_runs_with_concurrency_above_one(tmp_path: Path) -> None:
    """faust-streaming #606: an agent with concurrency > 1 can commit past a message still
    being processed. Every Faust agent the pipeline builds reads with concurrency 1, so an
    offset is committed only once everything before it is done (the consumer's strict
    offsets, ``tests/streams/runtime/test_offsets.py``, pin the rest)."""
    from prometheus_client import CollectorRegistry

    from streams.runtime.app import create_pipeline
    from streams.runtime.settings import Settings

    settings = Settings.from_env(environ={}, data_dir=tmp_path, topic_prefix="c.")
    pipe = create_pipeline(settings, registry=CollectorRegistry())
    agents = list(pipe.app.agents.values())
    assert agents, "no agent was built"
    assert {a.name: a.concurrency for a in agents if a.concurrency != 1} == {}
