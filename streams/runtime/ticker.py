"""The ticker: one clock tick per partition of ``yujing.ticks.v1``, every few seconds.

(order → **breach**.) SLA deadlines are durable: they live in the orders table,
recovered with it, never in ``@app.timer`` state or window expiry. What drives
them is a tick per partition, which the order tracker handles by checking the
records of that partition that are due. The ticker only publishes ticks — any
number of them, from any number of workers, is harmless — so it may run on a
plain timer: a worker that was down at a deadline publishes the breach on its
first tick after recovery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import faust

from schemas import Tick
from schemas.codec import encode


def start_ticker(
    app: faust.App,
    ticks: faust.TopicT,
    partitions: int,
    interval_s: float,
    clock: Callable[[], datetime],
) -> None:
    """Publish a tick to every partition of ``ticks`` each ``interval_s`` while ``app`` runs."""

    async def publish_ticks() -> None:
        now = clock()
        for p in range(partitions):
            tick = Tick(partition=str(p), event_time=now)
            await ticks.send(key=str(p).encode(), value=encode(tick), partition=p)

    app.timer(interval=interval_s, name="publish_ticks")(publish_ticks)
