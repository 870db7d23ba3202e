"""Agent ``plan_notifications``: dispatch orders → notification requests.

(order → **notification**.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import DispatchOrder
from schemas.registry import DISPATCH_ORDERS
from streams.core.notifications import plan as notify
from streams.runtime.hop import Hop, Result

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline


def register(pipe: Pipeline) -> None:
    hop: Hop[DispatchOrder] = Hop(pipe, "plan_notifications", DISPATCH_ORDERS)

    def core(order: DispatchOrder) -> Result:
        return Result(outputs=notify.plan(order, pipe.router, pipe.clock()))

    async def handle(event: faust.EventT) -> None:
        await hop.handle(event, core)

    pipe.wiring.on("plan_notifications", [DISPATCH_ORDERS], handle)
