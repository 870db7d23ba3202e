"""Agent ``plan_notifications``: dispatch orders → notification requests (order → **notification**).

What to send, to whom and on which channel (:mod:`streams.core.notifications.plan`):
an SMS per receiver and channel of the order's route; for an auto-disposal order,
an SMS reminder and a voice call to the party concerned. Ids and idempotency
keys are deterministic, so a redelivered order plans the same notifications.
"""

from __future__ import annotations

from schemas import DispatchOrder
from schemas.registry import DISPATCH_ORDERS
from streams.core.notifications import plan
from streams.runtime.agent import Agent, Handlers, Result, Source
from streams.runtime.context import Context


def build(ctx: Context) -> Handlers:
    router = ctx.config.router

    def on_order(order: DispatchOrder, _: Source) -> Result:
        return Result(outputs=plan.plan(order, router, ctx.clock()))

    return {DISPATCH_ORDERS: on_order}


AGENT = Agent("plan_notifications", build)
