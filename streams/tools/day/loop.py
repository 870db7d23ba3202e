"""The day's loop: the world's events and the people's updates, on the simulated clock.

(**reading** / **department event** → ... → notification → **people** → update.)
One asyncio loop runs the simulator and its people: every few milliseconds it
releases the readings and records the clock has reached
(:class:`streams.tools.simulate.live.LiveWorld`) and the people's updates that are due
(:class:`streams.tools.day.people.People`) to the real topics, reads the field app
(orders and alerts) and polls the stubs. It ends when the clock has stopped
(``YUJING_CLOCK_UNTIL``) and nothing is left to do by then. Produced with
``acks=all``; every send is awaited before the loop ends, so ``sent`` counts
what the broker has.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas import Alert, DispatchOrder, Event
from schemas.codec import DecodeError, decode, encode
from schemas.registry import ALERTS, DISPATCH_ORDERS, spec_for
from streams.runtime.kafka_security import PLAINTEXT, KafkaSecurity
from streams.tools.day.people import People
from streams.tools.simulate.live import LiveWorld

#: wall seconds between two passes of the loop, and between two polls of the stubs
STEP_S = 0.02
POLL_S = 0.2


@dataclass
class Progress:
    """A bar of the simulated day on stderr: redrawn on a terminal, a line per 10 % else."""

    start: datetime
    end: datetime
    stream: IO[str] = sys.stderr
    enabled: bool = True

    def __post_init__(self) -> None:
        self.tty = self.stream.isatty()
        self._decile = -1
        self._drawn = 0.0

    def draw(self, now: datetime, sent: int, updates: int, final: bool = False) -> None:
        if not self.enabled:
            return
        frac = min(1.0, max(0.0, (now - self.start) / (self.end - self.start)))
        decile = int(frac * 10)
        wall = time.monotonic()
        if not final and (wall - self._drawn < 0.5 if self.tty else decile == self._decile):
            return
        self._decile, self._drawn = decile, wall
        bar = "#" * int(frac * 30) + "." * (30 - int(frac * 30))
        hours = (min(now, self.end) - self.start).total_seconds() / 3600
        text = (
            f"[{bar}] {hours:5.2f} h of {(self.end - self.start).total_seconds() / 3600:g} h "
            f"simulated ({now:%H:%M}); {sent:,} readings and records, {updates:,} updates"
        )
        self.stream.write(("\r" + text + ("\n" if final else "")) if self.tty else text + "\n")
        self.stream.flush()


@dataclass
class DayLoop:
    """The simulator and its people, on one clock, against one broker and the stubs."""

    bootstrap: str
    prefix: str
    clock: Callable[[], datetime]
    until: datetime
    world: LiveWorld
    people: People
    progress: Progress
    security: KafkaSecurity = PLAINTEXT

    async def run(self) -> dict[str, int]:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, **self.security.aiokafka()
        )
        consumer = AIOKafkaConsumer(
            self.prefix + DISPATCH_ORDERS.name,
            self.prefix + ALERTS.name,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **self.security.aiokafka(),
        )
        await producer.start()
        await consumer.start()
        pending: deque[asyncio.Future[object]] = deque()
        stats = {"sent": 0, "inputs": 0, "updates": 0, "undecodable": 0}

        async def send(event: Event) -> None:
            spec = spec_for(event)
            fut = await producer.send(
                self.prefix + spec.name, value=encode(event), key=spec.key_of(event)
            )
            pending.append(fut)

        async def settle() -> None:
            while pending and pending[0].done():
                pending.popleft().result()  # raises if the broker refused it

        self.people.send = send
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                await self._loop(send, settle, consumer, session, stats)
            for fut in pending:
                await fut
            await producer.flush()
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
            await producer.stop()
        stats["sent"] = self.world.sent
        return stats

    async def _loop(
        self,
        send: Callable[[Event], object],
        settle: Callable[[], object],
        consumer: AIOKafkaConsumer,
        session: aiohttp.ClientSession,
        stats: dict[str, int],
    ) -> None:
        last_poll = 0.0
        orders_topic = self.prefix + DISPATCH_ORDERS.name
        while True:
            now = self.clock()
            for event in self.world.due(now):
                await send(event)  # type: ignore[misc]
                stats["inputs"] += 1
            stats["updates"] += await self.people.run_due(now)
            await settle()  # type: ignore[misc]
            batch = await consumer.getmany(timeout_ms=0, max_records=2000)
            for tp, records in batch.items():
                for r in records:
                    try:
                        if tp.topic == orders_topic:
                            self.people.on_order(decode(DispatchOrder, r.value))
                        else:
                            self.people.on_alert(decode(Alert, r.value))
                    except DecodeError:
                        stats["undecodable"] += 1
            wall = time.monotonic()
            if wall - last_poll >= POLL_S:
                last_poll = wall
                await self.people.poll_stubs(session)
            self.progress.draw(now, self.world.sent, stats["updates"])
            if now >= self.until and self._quiet(now):
                self.progress.draw(now, self.world.sent, stats["updates"], final=True)
                return
            await asyncio.sleep(STEP_S)

    def _quiet(self, now: datetime) -> bool:
        """Nothing left that can still happen by ``now`` (the stopped clock)."""
        nxt = self.people.next_time()
        return self.world.next_time() is None and (nxt is None or nxt > now)


__all__ = ["DayLoop", "Progress"]
