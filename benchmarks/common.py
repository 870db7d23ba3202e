"""Shared plumbing for the benchmarks: a broker to run against (and how to log in to it),
and a raw passthrough baseline."""

from __future__ import annotations

import asyncio
import functools
import os
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.dev.broker import BrokerConfig, LocalBroker
from streams.runtime.kafka_security import KafkaSecurity
from streams.runtime.reach import require_broker
from streams.runtime.settings import Settings


@functools.cache
def security() -> KafkaSecurity:
    """How every client of a benchmark connects: the settings' (``YUJING_KAFKA_SECURITY_*``,
    ``YUJING_KAFKA_SASL_*``, ``YUJING_KAFKA_SSL_*``, ``YUJING_ENV_FILE``); read once."""
    return Settings.from_env().kafka_security


def bootstrap() -> str:
    """``YUJING_KAFKA_BOOTSTRAP`` if set, else the local KRaft broker (started if needed)."""
    env = os.environ.get("YUJING_KAFKA_BOOTSTRAP", "").strip()
    if env:
        require_broker(env, security=security())  # one line within seconds, no client timeout
        return env
    return LocalBroker(BrokerConfig.from_env()).start()


async def _passthrough(bootstrap: str, source: str, sink: str, n: int, group: str) -> float:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **security().aiokafka(),
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **security().aiokafka())
    await consumer.start()
    await producer.start()
    try:
        seen = 0
        started: float | None = None
        while seen < n:
            batches = await consumer.getmany(timeout_ms=500)
            futures = []
            for records in batches.values():
                for r in records:
                    futures.append(await producer.send(sink, key=r.key, value=r.value))
            if futures and started is None:
                started = time.perf_counter()
            for f in futures:
                await f
            seen += len(futures)
            if futures:
                await consumer.commit()
        assert started is not None
        return n / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


def raw_passthrough_rate(bootstrap: str, source: str, sink: str, n: int, group: str) -> float:
    """Events/s of a bare aiokafka consume → produce loop over the same ``n`` records.

    The physical ceiling of a consume-process-produce hop on this broker and
    machine: no decoding, no state, delivery awaited per batch, offsets
    committed per batch.
    """
    return asyncio.run(_passthrough(bootstrap, source, sink, n, group))


class Poll:
    """How long to wait between progress polls of a worker's ``/metrics``.

    Rendering ``/metrics`` costs the measured worker a few milliseconds; polled every
    50 ms during a backlog run it took about 6 % of the worker's time (py-spy). So
    poll rarely while much is left, and often near the end, where the finishing time
    is read: the wait is a quarter of the estimated time left, within [min_s, max_s].

    >>> p = Poll(min_s=0.05, max_s=0.5)
    >>> p.interval(0, 20_000, now=0.0)
    0.05
    >>> p.interval(5_000, 20_000, now=1.0)   # 5,000/s, 3 s left
    0.5
    >>> p.interval(19_900, 20_000, now=4.0)  # 20 ms left
    0.05
    """

    def __init__(self, min_s: float = 0.05, max_s: float = 0.5) -> None:
        self.min_s, self.max_s = min_s, max_s
        self._start: tuple[float, float] | None = None

    def interval(self, done: float, total: float, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        if self._start is None or done <= self._start[1]:
            if self._start is None:
                self._start = (now, done)
            return self.min_s
        rate = (done - self._start[1]) / max(now - self._start[0], 1e-9)
        left = (total - done) / rate
        return min(self.max_s, max(self.min_s, left / 4))
