"""Two workers joining a group while a backlog is read: no reading is lost.

On the real broker. The group's rebalances (and the table recoveries after
them) fall inside the backlog; every alarm reading must still become a signal
and every reading offset must end up committed: nothing lost, nothing stalled.

Before ``streams.runtime.offsets``, this scenario lost readings in 3 of 10 runs of a
script (58, 101 and 65 of 1,000 alarms without a signal). The loss depends on
timing, and this test did not hit it in 12 runs without the fix, so the
mechanism itself is pinned deterministically in ``test_offsets.py``; this test
guards the strict commits against losing or stalling under real rebalances,
and checks issue 5's "exactly one dispatch order per alert" and "a breach
exactly once per order and stage" across them (simulated time at 60x, so every
order breaches while the group settles), and that ``yujing map``'s merge of
both workers' risk maps holds every alarm's place.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from support import read_all, source_topics, wait_for, wait_settled

from benchmarks.feed import Feed, backlog, produce_backlog
from benchmarks.stack import metric_sum
from schemas.registry import DISPATCH_ORDERS, READINGS, SIGNALS, SLA_BREACHES
from streams.dev.broker import find_free_port
from streams.dev.runner import Child, spawn, wait_http
from streams.runtime.kafka_io import ensure_topics, read_topic
from streams.tools.map import fetch

READINGS_N = 20_000
ALARM_SHARE = 0.05


def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int | None]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return {p: consumer.committed(TopicPartition(topic, p)) for p in (0, 1)}
    finally:
        consumer.close()


@pytest.mark.integration
def test_two_workers_starting_on_a_backlog_lose_no_reading(
    kafka_bootstrap: str, unique_prefix: str, tmp_path: Path
) -> None:
    prefix = f"{unique_prefix}."
    app_id = f"yujing-{unique_prefix}"
    group = prefix + app_id  # the prefix goes on the consumer group too
    ensure_topics(kafka_bootstrap, prefix, 2)
    feed = Feed(unique_prefix, ALARM_SHARE)
    records = backlog(feed, READINGS_N)
    alarms = {f"r-{unique_prefix}-{i}" for i in range(READINGS_N) if (i + 1) % 20 == 0}
    assert len(alarms) == len(feed.alarm_time)

    sms, voice = find_free_port(), find_free_port()
    env = {
        "YUJING_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "YUJING_APP_ID": app_id,
        "YUJING_TOPIC_PREFIX": prefix,
        "YUJING_PARTITIONS": "2",
        "YUJING_SMS_URL": f"http://127.0.0.1:{sms}",
        "YUJING_VOICE_URL": f"http://127.0.0.1:{voice}",
        "YUJING_SESSION_TIMEOUT_S": "10",
        # simulated time at 60x: every (emergency) order breaches 'signed' 5 s after
        # it is opened, while the group is still rebalancing
        "YUJING_CLOCK_EPOCH": f"{time.time():.3f}",
        "YUJING_CLOCK_SPEED": "60",
        "YUJING_TICK_INTERVAL_S": "0.5",
    }
    children: list[Child] = []
    webs: list[str] = []
    try:
        sinks = spawn(
            "sinks", ["sinks", "--sms-port", str(sms), "--voice-port", str(voice)], env, tmp_path
        )
        children.append(sinks)
        workers = []
        for w in range(2):
            port = find_free_port()
            worker_env = {
                **env,
                "YUJING_WEB_PORT": str(port),
                "YUJING_DATA_DIR": str(tmp_path / f"w{w}"),
            }
            workers.append(
                spawn(f"worker-{w}", ["worker", "--loglevel", "warning"], worker_env, tmp_path)
            )
            webs.append(f"http://127.0.0.1:{port}")
        children.extend(workers)
        # the backlog is there while the two workers join, rebalance and recover
        produce_backlog(kafka_bootstrap, prefix + READINGS.name, records)
        for child, web in zip(workers, webs, strict=True):
            wait_http(child, f"{web}/ready", timeout=120)
        readings_in = f'topic="{READINGS.name}"'
        wait_for(
            lambda: metric_sum(webs, "yujing_events_in_total", readings_in) >= READINGS_N,
            timeout=180,
            what="every reading read by some worker",
        )

        topic = prefix + READINGS.name
        wait_for(
            lambda: (
                sum(o or 0 for o in _committed(kafka_bootstrap, group, topic).values())
                == READINGS_N
            ),
            timeout=180,
            what="every reading offset committed",
        )
        signalled: set[str] = set()
        for record in read_topic(
            kafka_bootstrap, prefix + SIGNALS.name, min_count=len(alarms), timeout_s=60
        ):
            signalled.update(json.loads(record.value)["source_event_ids"])
        assert alarms - signalled == set()

        # exactly one dispatch order per alert, across the rebalances: one alarm
        # per place gives one alert and one order each, however often re-read
        # (read once nothing is in flight, so a duplicate would be on the topic)
        wait_settled(kafka_bootstrap, group, source_topics(prefix), timeout=240)
        orders = [
            json.loads(r.value)
            for r in read_all(kafka_bootstrap, prefix + DISPATCH_ORDERS.name, timeout_s=90)
        ]
        ids_per_alert: dict[str, set[str]] = {}
        for o in orders:
            ids_per_alert.setdefault(o["alert_id"], set()).add(o["order_id"])
        assert len(ids_per_alert) == len(alarms)
        assert all(len(ids) == 1 for ids in ids_per_alert.values())
        order_ids = {i for ids in ids_per_alert.values() for i in ids}

        # and exactly one breach per (order, stage), across the same rebalances
        def breaches() -> Counter[tuple[str, str]]:
            return Counter(
                (b["order_id"], b["stage"])
                for b in (
                    json.loads(r.value)
                    for r in read_all(kafka_bootstrap, prefix + SLA_BREACHES.name, timeout_s=30)
                )
            )

        wait_for(
            lambda: {o for o, stage in breaches() if stage == "signed"} >= order_ids,
            timeout=120,
            what="a 'signed' breach for every order",
        )
        # lag 0 with nothing in flight, ticks published after every breach was seen
        # included: a duplicate breach would be on the topic now
        wait_settled(kafka_bootstrap, group, source_topics(prefix), timeout=240)
        counted = breaches()
        assert {o for o, _ in counted} == order_ids
        assert [k for k, n in counted.items() if n > 1] == []

        # one risk map from both workers: each holds one partition's windows
        places = set(feed.alarm_time)
        alone = [fetch([web]) for web in webs]
        assert sorted(p for m in alone for p in m["partitions"]) == [0, 1]
        merged = fetch(webs)
        assert merged["partitions"] == [0, 1]

        def hot(m: dict[str, Any]) -> set[str]:
            return {s for s, v in m["scopes"].items() if v["open_alerts"]}

        assert hot(merged) & places == places  # every alarm's place, from either worker
        for part in alone:
            assert hot(part) < hot(merged)  # neither worker alone has the whole picture
        place = sorted(places)[0]
        one = fetch(webs, place)
        assert one["scope"] == place and one["level"] != "none" and one["alerts"]
    finally:
        for child in reversed(children):
            child.stop()
