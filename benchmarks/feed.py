"""The benchmark's readings: quiet sensors and, now and then, an alarm at a new place.

Outside the flow: it writes the first hop's input (**reading** → signal → alert →
order) for ``yujing bench`` and the scenario tests that need a backlog. Each alarm
is at a place of its own, so it becomes exactly one signal, one alert and one
dispatch order, and the order says which reading it came from (its place). The
same readings can go out one record each (``yujing.readings.v1``) or as gateway
batches (``yujing.reading-batches.v1``, :mod:`streams.tools.gateway`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas import SensorReading
from schemas.codec import encode
from streams.tools.gateway import Batcher

QUIET_KIND, QUIET_VALUE = "gas_lel", 2.0  # well under the restaurant gas limit (20 %LEL)
ALARM_VALUE = 31.0  # over it: one signal → one alert → one order per fresh place

Record = tuple[bytes, bytes]  # (key, value)


class Feed:
    """Readings for one run: quiet sensors, and every ``1/share``-th one an alarm at a new place."""

    def __init__(self, run: str, share: float, sensors: int = 500) -> None:
        self.run, self.every, self.sensors = run, max(1, round(1 / share)) if share else 0, sensors
        self.n = 0
        self.alarm_time: dict[str, datetime] = {}  # place id → event time of its alarm
        self.alarm_index: dict[str, int] = {}  # place id → the alarm's index in the feed

    def reading(self, now: datetime) -> SensorReading:
        i = self.n
        self.n += 1
        if self.every and i % self.every == self.every - 1:
            place = f"site.bench.{self.run}.{i}"
            sensor, value = f"alarm-{self.run}-{i}", ALARM_VALUE
            self.alarm_time[place] = now
            self.alarm_index[place] = i
        else:
            place = f"site.bench.{self.run}.quiet-{i % self.sensors}"
            sensor, value = f"quiet-{self.run}-{i % self.sensors}", QUIET_VALUE
        return SensorReading(
            reading_id=f"r-{self.run}-{i}",
            sensor_id=sensor,
            sensor_kind=QUIET_KIND,
            place_id=place,
            value=value,
            unit="%LEL",
            event_time=now,
        )

    def next(self, now: datetime) -> Record:
        """The next reading as one record of ``yujing.readings.v1``."""
        r = self.reading(now)
        return r.sensor_id.encode(), encode(r)


def backlog(feed: Feed, n: int) -> list[Record]:
    """``n`` single-reading records whose event times lie ten minutes back, 1 ms apart."""
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    return [feed.next(t0 + timedelta(milliseconds=i)) for i in range(n)]


def batch_backlog(feed: Feed, n: int, partitions: int, size: int) -> list[Record]:
    """The same ``n`` readings as :func:`backlog`, uploaded in gateway batches of ``size``."""
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    g = Batcher(partitions, size, window_s=float("inf"), gateway_id=f"bench-{feed.run}")
    out: list[Any] = []
    for i in range(n):
        out += g.add(feed.reading(t0 + timedelta(milliseconds=i)))
    out += g.flush()
    return [(b.sensor_group.encode(), encode(b)) for b in out]


def produce_backlog(bootstrap: str, topic: str, records: list[Record]) -> None:
    """Write ``records`` with aiokafka (its checksums are compiled; kafka-python's pure
    Python ones write 100 KB batch records at a few MB/s, slower than the pipeline)."""
    asyncio.run(_produce_all(bootstrap, topic, records))


async def _produce_all(bootstrap: str, topic: str, records: list[Record]) -> None:
    from aiokafka import AIOKafkaProducer

    from benchmarks.common import security

    p = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_request_size=1 << 20,
        **security().aiokafka(),
    )
    await p.start()
    try:
        pending = [await p.send(topic, key=key, value=value) for key, value in records]
        for fut in pending:
            await fut
    finally:
        await p.stop()
