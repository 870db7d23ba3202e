"""Agent ``dispatch``: alerts → dispatch orders (alert → **order**), one per alert.

The order id derives from the alert id, and a changelog-backed table keyed by
alert id (the alerts topic's key) remembers which alerts already have an
order, so redelivery and newer alert versions never create a second one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faust

from schemas import Alert
from schemas.registry import ALERTS
from streams.hop import Hop, Result

if TYPE_CHECKING:
    from streams.app import Pipeline


def register(pipe: Pipeline) -> None:
    dispatched = pipe.table("dispatched-alerts")
    hop: Hop[Alert] = Hop(pipe, "dispatch", ALERTS)

    def core(alert: Alert) -> Result:
        if dispatched.get(alert.alert_id) is not None:
            return Result()
        order = pipe.router.dispatch(alert, pipe.clock())

        def commit() -> None:
            dispatched[alert.alert_id] = order.order_id

        return Result(outputs=[order], commit=commit)

    @pipe.app.agent(pipe.topic(ALERTS), name="dispatch", concurrency=1)
    async def dispatch(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await hop.handle(event, core)
