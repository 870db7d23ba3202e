"""Agent ``dispatch``: alerts → dispatch orders (alert → **order**), one per alert.

The order id derives from the alert id, and a changelog-backed table keyed by
alert id (the alerts topic's key) remembers which alerts already have an
order, so redelivery and newer alert versions never create a second one. An alert
version with ``inhibited_by`` set (a systemic alert covers it) is not paged;
one paged before its cover appeared keeps its order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import Alert
from schemas.registry import ALERTS
from streams.runtime.hop import Hop, Result

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline


def register(pipe: Pipeline) -> None:
    dispatched = pipe.table("dispatched-alerts")
    hop: Hop[Alert] = Hop(pipe, "dispatch", ALERTS)

    def core(alert: Alert) -> Result:
        if dispatched.get(alert.alert_id) is not None:
            return Result()
        if alert.inhibited_by is not None:
            pipe.metrics.inhibited.inc()
            return Result()  # covered by a systemic alert, which is paged instead
        order = pipe.router.dispatch(alert, pipe.clock())

        def commit() -> None:
            dispatched[alert.alert_id] = order.order_id

        return Result(outputs=[order], commit=commit)

    async def handle(event: faust.EventT) -> None:
        await hop.handle(event, core)

    pipe.wiring.on("dispatch", [ALERTS], handle)
