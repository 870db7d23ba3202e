"""Plain Kafka I/O for tools (demo, tests, replay): produce events, read topics.

Outside the streaming flow: it feeds the first hop and reads any hop back,
with the same registry keys and JSON codec the agents use (kafka-python). Each
client connects with the ``security`` it is given (default: PLAINTEXT), from
:attr:`streams.runtime.settings.Settings.kafka_security`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from schemas import Event
from schemas.codec import encode
from schemas.registry import spec_for
from streams.runtime import provision
from streams.runtime.kafka_security import PLAINTEXT, KafkaSecurity


def ensure_topics(
    bootstrap: str,
    prefix: str,
    partitions: int,
    replicas: int = 1,
    *,
    security: KafkaSecurity = PLAINTEXT,
) -> list[str]:
    """Create every registry topic under ``prefix`` with ``partitions`` partitions (and
    ``replicas`` replicas) if missing.

    An existing one with another partition count is an error
    (:class:`streams.runtime.provision.PartitionsMismatch`); see :mod:`streams.runtime.provision`.
    """
    plan = provision.registry_plan(prefix, partitions, replicas)
    return provision.ensure_topics(bootstrap, plan, security=security)


class Producer:
    """Produce registry events (keyed by their topic's key field) or raw bytes."""

    def __init__(
        self, bootstrap: str, prefix: str = "", *, security: KafkaSecurity = PLAINTEXT
    ) -> None:
        self._prefix = prefix
        self._p = KafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=5, **security.kafka_python()
        )

    def send(self, event: Event) -> None:
        spec = spec_for(event)
        self._p.send(self._prefix + spec.name, key=spec.key_of(event), value=encode(event))

    def send_all(self, events: Iterable[Event]) -> int:
        n = 0
        for e in events:
            self.send(e)
            n += 1
        self.flush()
        return n

    def send_raw(self, topic: str, value: bytes | None, key: bytes | None = None) -> None:
        self._p.send(self._prefix + topic, key=key, value=value)

    def flush(self) -> None:
        self._p.flush(timeout=30)

    def close(self) -> None:
        self._p.close(timeout=10)


def read_topic(
    bootstrap: str,
    topic: str,
    *,
    min_count: int = 0,
    timeout_s: float = 10.0,
    idle_s: float = 1.0,
    security: KafkaSecurity = PLAINTEXT,
) -> list[Any]:
    """All records of ``topic`` from the beginning: waits for ``min_count`` records
    (up to ``timeout_s``), then until ``idle_s`` passes with nothing new."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=200,
        **security.kafka_python(),
    )
    try:
        consumer.subscribe([topic])
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=200)
            got = [r for rs in batch.values() for r in rs]
            if got:
                records.extend(got)
                last_new = time.monotonic()
            elif len(records) >= min_count and time.monotonic() - last_new >= idle_s:
                break
        return records
    finally:
        consumer.close()


class MissingTopic(LookupError):
    """A topic that is not on the broker."""

    def __init__(self, topic: str) -> None:
        super().__init__(topic)
        self.topic = topic


def read_to_end(
    bootstrap: str,
    topics: Iterable[str],
    *,
    timeout_s: float = 300.0,
    optional: bool = False,
    security: KafkaSecurity = PLAINTEXT,
) -> dict[str, list[Any]]:
    """Every record of ``topics`` up to their end offsets when called, topic by topic.

    Unlike :func:`read_topic` it never stops early on a quiet moment and never cuts a big
    topic short: it reads until each partition's position reaches the end offset taken at
    the start (records added later are not waited for). A topic that does not exist raises
    :class:`MissingTopic`, or reads as empty when ``optional``. ``TimeoutError`` after
    ``timeout_s``.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        **security.kafka_python(),
    )
    try:
        out: dict[str, list[Any]] = {}
        parts = []
        for topic in topics:
            out[topic] = []
            ids = consumer.partitions_for_topic(topic)
            if not ids:
                if optional:
                    continue
                raise MissingTopic(topic)
            parts += [TopicPartition(topic, p) for p in sorted(ids)]
        if not parts:
            return out
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = {tp: end for tp, end in consumer.end_offsets(parts).items() if end > 0}
        deadline = time.monotonic() + timeout_s
        while ends:
            if time.monotonic() > deadline:
                left = sorted(f"{tp.topic}[{tp.partition}]" for tp in ends)
                raise TimeoutError(f"not read to the end within {timeout_s:g} s: {left}")
            for tp, batch in consumer.poll(timeout_ms=500).items():
                out[tp.topic].extend(r for r in batch if r.offset < ends.get(tp, 0))
            for tp in [tp for tp, end in ends.items() if consumer.position(tp) >= end]:
                del ends[tp]
        return out
    finally:
        consumer.close()
