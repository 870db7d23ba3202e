"""Agent ``dispatch``: alerts → dispatch orders (alert → **order**), one per alert.

The order id derives from the alert id, and a changelog-backed table keyed by
alert id (the alerts topic's key) remembers which alerts already have an order,
so redelivery and newer alert versions never create a second one. An alert
version with ``inhibited_by`` set (a systemic alert covers it) is not paged; one
paged before its cover appeared keeps its order.
"""

from __future__ import annotations

from schemas import Alert
from schemas.registry import ALERTS
from streams.core.alerts.inhibition import pages
from streams.core.orders.create import create_order
from streams.runtime.agent import Agent, Handlers, Result, Source, store
from streams.runtime.context import Context


def build(ctx: Context) -> Handlers:
    dispatched = ctx.table("dispatched-alerts")
    router = ctx.config.router

    def on_alert(alert: Alert, _: Source) -> Result:
        if dispatched.get(alert.alert_id) is not None:
            return Result()
        if not pages(alert):
            ctx.metrics.inhibited.inc()
            return Result()  # covered by a systemic alert, which is paged instead
        order = create_order(router, alert, ctx.clock())
        return Result(outputs=[order], commit=store(dispatched, alert.alert_id, order.order_id))

    return {ALERTS: on_alert}


AGENT = Agent("dispatch", build)
