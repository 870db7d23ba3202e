"""Agent ``plan_notifications``: dispatch orders → notification requests.

(order → **notification**.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import DispatchOrder
from schemas.registry import DISPATCH_ORDERS
from streams.core import notify
from streams.hop import Hop, Result

if TYPE_CHECKING:
    from streams.app import Pipeline


def register(pipe: Pipeline) -> None:
    hop: Hop[DispatchOrder] = Hop(pipe, "plan_notifications", DISPATCH_ORDERS)

    def core(order: DispatchOrder) -> Result:
        return Result(outputs=notify.plan(order, pipe.router, pipe.clock()))

    @pipe.app.agent(pipe.topic(DISPATCH_ORDERS), name="plan_notifications", concurrency=1)
    async def plan_notifications(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await hop.handle(event, core)
