"""Chaos T12: a worker restores 1,000,000 sensors' state from a compacted changelog.

Issue 13, T12: "state recovery from a compacted changelog with 1,000,000 keys:
recovery time measured, target < 30 s". The table is the biggest one, the
``detect`` agent's ``sensor-detector-state``. A first worker creates the topics
(Faust creates the changelog, compacted) and stops; then the changelog is filled
with a million real states (``changelog_fill``: warmed by the detection core, keyed
and partitioned as the worker writes them; setup, not timed). A second worker
starts on it. Its ``/ready`` answers 200 only once Faust has read every changelog
partition up to its highwater and resumed the streams (``streams/runtime/web.py``),
so the recovery time runs from the partition assignment (the consumer's log line)
to the first 200 of ``/ready``; the time from spawning the process is printed too
(it adds the interpreter, the pipeline and Faust's start, which are no recovery).
Then the state must be the one written: a burst of readings for a sensor of each
partition raises exactly the signals its stored state makes the detection core
raise, while a sensor with no stored state stays silent (a cold detector cannot
judge yet); and the worker's RSS must have grown by at least the states' own bytes.
The recovery time is printed against the 30-s target, not asserted (speed targets
are reported, never timed assertions: on this 2-core machine one day gave 19.2 s and
another 34.2 s for the same code).

With a million distinct keys, compaction has nothing to remove (one record per
key; the log cleaner never touches the active segment either): every record is
read, which is what a compacted changelog of a million sensors is.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from aiokafka.partitioner import DefaultPartitioner
from changelog_fill import burst, fill, record, sensor_id, state_of, templates
from faust.serializers import codecs
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from support import Stack

from schemas import RiskSignal
from schemas.registry import SIGNALS
from streams.core.shared.catalogue import load_catalogue
from streams.core.signals.detect import Detection
from streams.runtime.partitioning import partition_of
from streams.runtime.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

KEYS = 1_000_000
TARGET_S = 30.0
TABLE = "sensor-detector-state"
PROBE_KIND = "gas_flow_m3h"  # likelihood: silent for its two-day warm-up, so cold cannot fire
VARIANTS = 4  # warmed states per sensor kind
#: log lines of the worker (``--loglevel info``): aiokafka's, then Faust's recovery's
ASSIGNED = "Setting newly assigned partitions"
RESTORED = "Done reading from changelog topics"
STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used: beside the wall time, what
    the machine's other load cannot inflate as much."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def topic_configs(bootstrap: str, topic: str) -> dict[str, str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        answer = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    return {k: c["value"] for k, c in answer["topic"][topic].items()}


def drop_topics(bootstrap: str, prefix: str) -> None:
    """Delete the topics of this test's own (unique) prefix: the changelog is large."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        mine = [t for t in admin.list_topics() if t.startswith(prefix)]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()


def first_times(log: Path, since: int, markers: tuple[str, ...]) -> dict[str, float]:
    """Unix time of the first line with each marker, in ``log`` from byte ``since`` on."""
    found: dict[str, float] = {}
    with log.open("rb") as f:
        f.seek(since)
        for raw in f:
            line = raw.decode(errors="replace")
            stamp = STAMP.match(line)
            for marker in markers:
                if stamp and marker in line and marker not in found:
                    found[marker] = datetime.strptime(stamp[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    missing = [m for m in markers if m not in found]
    assert not missing, f"not in the worker's log: {missing}"
    return found


def expected_signals(detection: Detection, kind: str, sid: str, state: str | None) -> set[str]:
    """The signal ids the detection core raises for ``sid``'s burst from ``state``."""
    fired: set[str] = set()
    for r in burst(kind, sid):
        seen = detection.observe_reading(r, state, r.event_time)
        state, fired = seen.state, fired | {s.signal_id for s in seen.signals}
    return fired


def test_t12_a_million_sensor_states_are_restored_within_30_s(
    stack_factory: Callable[..., Stack],
) -> None:
    catalogue = load_catalogue()
    detection = Detection(catalogue)
    kinds = sorted({rp.source.sensor_kind for rp in catalogue.risk_points} - {None})
    states = templates(detection, kinds, VARIANTS, seed=12)
    stack = stack_factory(env={"YUJING_CLOCK_SPEED": "1"})
    try:
        settings = Settings.from_env(stack.env)
        topic, parts = f"{settings.faust_id}-{TABLE}-changelog", settings.partitions
        # the first worker made the changelog: compacted, with the pipeline's partitions
        assert topic_configs(stack.bootstrap, topic)["cleanup.policy"] == "compact"
        # the bytes and partitions Faust writes: its JSON codec, Kafka's default partitioner
        every = list(range(parts))
        for i in random.Random(1).sample(range(KEYS), 200):
            sid, state = sensor_id(kinds, i), state_of(states, kinds, i)
            assert record(sid, state) == (codecs.dumps("json", sid), codecs.dumps("json", state))
            aio = DefaultPartitioner()(sid.encode(), every, every)
            assert partition_of(sid.encode(), parts) == aio
        assert stack.worker is not None
        empty_rss = rss_mib(stack.worker.proc.pid)
        stack.stop_worker()

        filled = fill(stack.bootstrap, topic, parts, KEYS, states)
        assert filled.keys == KEYS and sum(filled.per_partition.values()) == KEYS

        log = stack.tmp / "worker.log"
        since = log.stat().st_size
        spawned = time.time()
        worker = stack.start_worker(loglevel="info", timeout=150)
        ready = time.time()
        rss, cpu = rss_mib(worker.proc.pid), cpu_s(worker.proc.pid)
        marks = first_times(log, since, (ASSIGNED, RESTORED))
        recovery_s, restore_s = ready - marks[ASSIGNED], marks[RESTORED] - marks[ASSIGNED]
        states_mib = filled.state_chars / 2**20
        growth = rss - empty_rss
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"\nT12 recovery of {filled.keys:,} keys ({filled.bytes / 2**20:,.0f} MiB of keys and "
            f"values in {parts} partitions, written in {filled.seconds:.1f} s, not timed): "
            f"{recovery_s:.1f} s from the partition assignment to /ready "
            f"({filled.keys / recovery_s:,.0f} keys/s; the changelog read in {restore_s:.1f} s), "
            f"{ready - spawned:.1f} s from spawning the worker, which had used {cpu:.1f} s of "
            f"CPU by then; RSS {rss:,.0f} MiB "
            f"({growth:+,.0f} over the empty worker's {empty_rss:,.0f}; the states alone "
            f"{states_mib:,.0f} MiB); load {load} on {os.cpu_count()} cores"
        )

        # the restored state is the state written: warm sensors fire as it says, cold ones not
        gas = range(kinds.index(PROBE_KIND), KEYS, len(kinds))  # sensor_id's kind of i
        probes: dict[int, int] = {}
        for i in random.Random(12).sample(gas, 50):
            probes.setdefault(partition_of(sensor_id(kinds, i).encode(), parts), i)
        assert sorted(probes) == every
        expected = {
            sensor_id(kinds, i): expected_signals(
                detection, PROBE_KIND, sensor_id(kinds, i), state_of(states, kinds, i)
            )
            for i in probes.values()
        }
        assert all(expected.values()), "a stored state must make the burst fire"
        cold = f"{PROBE_KIND}-cold"
        expected[cold] = expected_signals(detection, PROBE_KIND, cold, None)
        assert expected[cold] == set(), "a cold detector must stay silent"
        stack.produce(*(r for sid in expected for r in burst(PROBE_KIND, sid)))
        stack.settle()
        got: dict[str, set[str]] = {sid: set() for sid in expected}
        for s in stack.read(SIGNALS, RiskSignal):
            got.setdefault(s.source_key, set()).add(s.signal_id)
        assert got == expected

        assert growth >= states_mib, "the worker does not hold the states it restored"
        # the time is measured and reported against its target, not asserted: a timed
        # assertion fails on a loaded or slower machine while nothing is wrong
        verdict = "met" if recovery_s < TARGET_S else "MISSED"
        print(f"T12 target < {TARGET_S:.0f} s from assignment to /ready: {verdict}")
    finally:
        stack.stop()
        drop_topics(stack.bootstrap, stack.prefix)
