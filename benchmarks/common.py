"""Shared plumbing for the benchmarks: a broker to run against, and a raw passthrough baseline."""

from __future__ import annotations

import asyncio
import os
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.broker import BrokerConfig, LocalBroker


def bootstrap() -> str:
    """``YUJING_KAFKA_BOOTSTRAP`` if set, else the local KRaft broker (started if needed)."""
    env = os.environ.get("YUJING_KAFKA_BOOTSTRAP", "").strip()
    return env or LocalBroker(BrokerConfig.from_env()).start()


async def _passthrough(bootstrap: str, source: str, sink: str, n: int, group: str) -> float:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
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
