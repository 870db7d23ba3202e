"""Test support: a stack of real yujing processes (sinks + worker) on a real broker.

Each stack runs ``yujing worker`` and ``yujing sinks`` as processes with a
simulated clock (``YUJING_CLOCK_EPOCH`` = the stack's start, speed 60: one wall
second is one simulated minute), its own topic prefix, consumer group and ports.
Its workers' pages are read with their tokens (``YUJING_WEB_TOKEN``,
``YUJING_METRICS_TOKEN``) when they have them: :meth:`Stack.page`, :meth:`Stack.metrics`.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from schemas import Event
from schemas.codec import decode
from schemas.registry import TICKS, TopicSpec
from streams.core.orders.routing import DEFAULT_PATH as DEFAULT_ROUTES
from streams.dev.broker import find_free_port
from streams.dev.runner import Child, get_json, spawn, wait_http
from streams.runtime.kafka_io import Producer, ensure_topics
from streams.runtime.kafka_security import KafkaSecurity
from streams.runtime.settings import Settings
from streams.runtime.webauth import bearer

E = TypeVar("E", bound=Event)
T = TypeVar("T")

SPEED = 60.0


@functools.cache
def kafka_security() -> KafkaSecurity:
    """How the tests' own clients connect: this process's settings (``YUJING_ENV_FILE``,
    ``YUJING_KAFKA_SECURITY_PROTOCOL``, ...), which the workers they start inherit, so the
    suites run against a secured broker too."""
    return Settings.from_env().kafka_security


def test_routes(tmp: Path, recheck: dict[str, float]) -> Path:
    """The default route tree with re-check delays short enough for a test."""
    data = yaml.safe_load(DEFAULT_ROUTES.read_text())
    data["auto_disposal"] = {"recheck_after_s": recheck, "healthy_readings": 3}
    path = tmp / "routes.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@dataclass
class Stack:
    bootstrap: str
    prefix: str
    tmp: Path
    env: dict[str, str]
    sinks_args: list[str]
    sms: str = ""
    voice: str = ""
    web: str = ""
    worker: Child | None = None
    sinks: Child | None = None
    started: list[Child] = field(default_factory=list)
    #: how the test's own clients log in (topics, produce); default this process's settings
    security: KafkaSecurity | None = None

    @property
    def login(self) -> KafkaSecurity:
        return self.security if self.security is not None else kafka_security()

    @property
    def group(self) -> str:
        """The workers' consumer group: the topic prefix + the app id (as Faust's id)."""
        return self.prefix + self.env["YUJING_APP_ID"]

    def start(self) -> Stack:
        sms_port, voice_port, web_port = find_free_port(), find_free_port(), find_free_port()
        self.sms, self.voice = f"http://127.0.0.1:{sms_port}", f"http://127.0.0.1:{voice_port}"
        self.web = f"http://127.0.0.1:{web_port}"
        self.env.update(
            {
                "YUJING_SMS_URL": self.sms,
                "YUJING_VOICE_URL": self.voice,
                "YUJING_WEB_PORT": str(web_port),
            }
        )
        replicas = int(self.env.get("YUJING_REPLICATION_FACTOR", "1"))
        ensure_topics(
            self.bootstrap, self.prefix, partitions=2, replicas=replicas, security=self.login
        )
        args = ["sinks", "--sms-port", str(sms_port), "--voice-port", str(voice_port)]
        self.sinks = spawn("sinks", args + self.sinks_args, self.env, self.tmp)
        self.started.append(self.sinks)
        wait_http(self.sinks, f"{self.sms}/healthz", timeout=30)
        wait_http(self.sinks, f"{self.voice}/healthz", timeout=30)
        self.start_worker()
        return self

    def start_worker(self, loglevel: str = "warning", timeout: float = 120.0) -> Child:
        """Spawn a worker and wait until its ``/ready`` answers 200 (partitions assigned,
        tables recovered); ``loglevel="info"`` keeps Faust's recovery lines in its log."""
        self.worker = spawn("worker", ["worker", "--loglevel", loglevel], self.env, self.tmp)
        self.started.append(self.worker)
        wait_http(self.worker, f"{self.web}/ready", timeout=timeout)
        return self.worker

    def extra_worker(self, name: str) -> tuple[Child, str]:
        """Another worker in this stack's group (its own web port, data dir and log
        ``<name>.log``), started and stopped with the stack: the child and its web URL."""
        port = find_free_port()
        env = {**self.env, "YUJING_WEB_PORT": str(port), "YUJING_DATA_DIR": str(self.tmp / name)}
        child = spawn(name, ["worker", "--loglevel", "warning"], env, self.tmp)
        self.started.append(child)
        return child, f"http://127.0.0.1:{port}"

    def stop_worker(self) -> None:
        """A clean stop (SIGTERM): offsets and table state are committed."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def stop(self) -> None:
        for child in reversed(self.started):
            child.stop()

    def produce(self, *events: Event) -> None:
        p = Producer(self.bootstrap, self.prefix, security=self.login)
        p.send_all(events)
        p.close()

    def produce_raw(self, spec: TopicSpec, value: bytes, key: bytes) -> None:
        p = Producer(self.bootstrap, self.prefix, security=self.login)
        p.send_raw(spec.name, value, key=key)
        p.flush()
        p.close()

    def read(self, spec: TopicSpec, schema: type[E], timeout_s: float = 3.0) -> list[E]:
        """Every record of the topic, at least up to its end offsets when called."""
        records = read_all(self.bootstrap, self.prefix + spec.name, timeout_s=timeout_s)
        return [decode(schema, r.value) for r in records]

    def settle(self, timeout: float = 120.0) -> dict[TopicPartition, int]:
        """Wait until nothing is in flight in this stack's worker(s): see :func:`wait_settled`."""
        return wait_settled(self.bootstrap, self.group, source_topics(self.prefix), timeout)

    def wall_time(self, simulated: datetime) -> float:
        """The wall time (Unix seconds) at which this stack's clock reads ``simulated``."""
        epoch = float(self.env["YUJING_CLOCK_EPOCH"])
        speed = float(self.env["YUJING_CLOCK_SPEED"])
        return epoch + (simulated.timestamp() - epoch) / speed

    def clock(self) -> datetime:
        """This stack's (simulated) pipeline clock now, from its settings (as a worker's)."""
        from streams.core.shared.clock import make_clock

        env = self.env
        return make_clock(
            env.get("YUJING_CLOCK_EPOCH", ""),
            float(env.get("YUJING_CLOCK_SPEED", "1")),
            env.get("YUJING_CLOCK_ANCHOR", ""),
            env.get("YUJING_CLOCK_UNTIL", ""),
        )()

    def wait_until_simulated(self, simulated: datetime) -> None:
        """Until this stack's (simulated) clock has passed ``simulated``: the moment is
        computed from the clock's settings, not guessed (then :meth:`settle` proves a
        tick after it was handled)."""
        time.sleep(max(0.0, self.wall_time(simulated) - time.time()) + 0.05)

    def sms_messages(self) -> list[dict[str, Any]]:
        return get_json(f"{self.sms}/v1/messages")[1]["messages"]

    def voice_calls(self) -> list[dict[str, Any]]:
        return get_json(f"{self.voice}/v1/calls")[1]["calls"]

    @staticmethod
    def wait_for(predicate: Callable[[], T], timeout: float = 60.0, what: str = "it") -> T:
        return wait_for(predicate, timeout, what)

    def settings(self) -> Settings:
        """What this stack's workers read: this process's environment and the stack's."""
        return Settings.from_env({**os.environ, **self.env})

    def page(self, path: str, web: str = "") -> tuple[int, Any]:
        """A worker's page (``/map``, ``/map/{scope}/alerts``, ...) as JSON, asked with
        the workers' ``YUJING_WEB_TOKEN`` if any: its status and body."""
        return get_json(f"{web or self.web}{path}", headers=bearer(self.settings().web_token))

    def metrics(self) -> str:
        import urllib.request

        headers = bearer(self.settings().metrics_token)
        request = urllib.request.Request(f"{self.web}/metrics", headers=headers)
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.read().decode()

    def metric(self, name: str, labels: dict[str, str]) -> float:
        """One sample's value from /metrics (0.0 when it is not there yet)."""
        want = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
        for line in self.metrics().splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        return 0.0


def make_stack(
    bootstrap: str,
    prefix: str,
    tmp: Path,
    *,
    sinks_args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Stack:
    tmp.mkdir(parents=True, exist_ok=True)
    base = {
        "YUJING_KAFKA_BOOTSTRAP": bootstrap,
        "YUJING_APP_ID": f"yujing-{prefix.rstrip('.')}",
        "YUJING_TOPIC_PREFIX": prefix,
        "YUJING_DATA_DIR": str(tmp / "worker"),
        "YUJING_CLOCK_EPOCH": f"{time.time():.3f}",
        "YUJING_CLOCK_SPEED": str(SPEED),
        "YUJING_TICK_INTERVAL_S": "0.5",
        "YUJING_SESSION_TIMEOUT_S": "6",
        "YUJING_DELIVERY_BACKOFF_S": "0.05",
        "YUJING_ROUTES": str(test_routes(tmp, {"emergency": 60, "non_emergency": 600})),
    }
    return Stack(bootstrap, prefix, tmp, {**base, **(env or {})}, sinks_args or [])


def source_topics(prefix: str) -> list[str]:
    """The topics a worker with ``prefix`` reads (from its own wiring, not a copy)."""
    return list(_source_topics(prefix))


@functools.cache
def _source_topics(prefix: str) -> tuple[str, ...]:
    from streams.runtime.app import create_pipeline
    from streams.runtime.settings import Settings

    settings = Settings(kafka_bootstrap="127.0.0.1:1", topic_prefix=prefix)
    return tuple(create_pipeline(settings).wiring.topics())


def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **kafka_security().kafka_python())
    try:
        tps = [
            TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t))
        ]
        return dict(consumer.end_offsets(tps))
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **kafka_security().kafka_python())
    try:
        offsets = admin.list_group_offsets({group: None})[group]
        return {tp: meta.offset for tp, meta in offsets.items()}
    finally:
        admin.close()


def wait_processed(
    bootstrap: str, group: str, topics: list[str], timeout: float = 90.0
) -> dict[TopicPartition, int]:
    """Lag 0 up to now: every record already on ``topics`` is processed and committed.

    Takes the end offsets first, then waits until ``group`` has committed at least
    that far on every partition (records published later may still be in flight).
    Fails if the topics hold nothing at all (the assertion would prove nothing), or
    with the partitions still behind when ``timeout`` passes.
    """
    ends = end_offsets(bootstrap, topics)
    assert sum(ends.values()) > 0, f"nothing was published on {topics}"
    behind: dict[str, tuple[int, int]] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done = committed_offsets(bootstrap, group)
        except KafkaError:  # a broker failing over (the chaos suite stops some): ask again
            time.sleep(0.5)
            continue
        behind = {
            f"{tp.topic}[{tp.partition}]": (done.get(tp, 0), end)
            for tp, end in ends.items()
            if done.get(tp, 0) < end
        }
        if not behind:
            return ends
        time.sleep(0.5)
    raise AssertionError(f"still behind (committed, end) after {timeout:.0f} s: {behind}")


def wait_settled(
    bootstrap: str, group: str, topics: list[str], timeout: float = 120.0
) -> dict[TopicPartition, int]:
    """Nothing left in flight: what a no-duplicate or no-loss assertion waits for.

    :func:`wait_processed` alone is lag 0 up to the end offsets it took, but a
    record processed while it waited may have published outputs after them (a
    reading's signal, that signal's alert, ...), which nobody has processed yet.
    So this waits in rounds until a round adds no record to any source topic
    other than the ticks: then every record in the flow has been processed and
    produced everything it will (outputs are on the broker before the offset that
    produced them is committed). Before the first round it waits for a tick
    published after this call on every partition of the ticks topic (when the
    group reads it), so the time-driven outputs (SLA breaches, re-checks,
    escalations) are judged at a time after everything the caller has seen.
    Fails when ``timeout`` passes first.
    """
    deadline = time.monotonic() + timeout
    ticks = [t for t in topics if t.endswith(TICKS.name)]
    if ticks:
        before = end_offsets(bootstrap, ticks)
        wait_for(
            lambda: all(n > before[tp] for tp, n in end_offsets(bootstrap, ticks).items()),
            max(1.0, deadline - time.monotonic()),
            f"a fresh tick on every partition of {ticks}",
        )
    previous: dict[TopicPartition, int] | None = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the flow did not settle within {timeout:.0f} s")
        ends = wait_processed(bootstrap, group, topics, timeout=left)
        flow = {tp: n for tp, n in ends.items() if tp.topic not in ticks}
        if flow == previous:
            return ends
        previous = flow


def read_all(bootstrap: str, topic: str, timeout_s: float = 3.0, idle_s: float = 0.5) -> list[Any]:
    """Every record of ``topic`` from the beginning, at least up to its end offsets now.

    Then keeps reading until ``idle_s`` passes with nothing new (records still
    coming). Unlike a read that stops after a quiet spell alone, a slow fetch
    cannot make it return fewer records than the topic held when called: it
    fails instead, if the end offsets are not reached within ``timeout_s`` (at
    least 30 s: a slow broker is not an empty topic).
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        **kafka_security().kafka_python(),
    )
    try:
        partitions = wait_for(
            lambda: consumer.partitions_for_topic(topic), 30, f"the partitions of {topic}"
        )
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records: list[Any] = []
        start = last_new = time.monotonic()
        while True:
            batch = consumer.poll(timeout_ms=100)
            got = [r for tp in tps for r in batch.get(tp, [])]
            now = time.monotonic()
            if got:
                records.extend(got)
                last_new = now
            reached = all(consumer.position(tp) >= ends[tp] for tp in tps)
            if reached and (now - last_new >= idle_s or now - start >= timeout_s):
                return sorted(records, key=lambda r: (r.partition, r.offset))
            if not reached and now - start >= max(timeout_s, 30.0):
                raise AssertionError(f"{topic}: could not read up to {ends} in time")
    finally:
        consumer.close()


def wait_for(predicate: Callable[[], T], timeout: float = 60.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
