"""Agent ``assess_scopes``: scoped signals → compound and systemic alerts (→ **alert**).

The windowed join: every signal of one scope (a town, an industry, the
district) arrives in one partition of ``yujing.scoped-signals.v1``; its
windows live in a changelog-backed JSON table keyed by (scope, rule, window
start), and the rules are evaluated as each signal arrives
(:mod:`streams.core.alerts.scopes`). Windows are garbage-collected by the scope's
event-time watermark, which is stored in the same table — nothing relies on
``on_window_close`` or wall-clock expiry, so recovery from the changelog
restores everything the rules need.

Also serves the risk map (``/map``, ``/map/{scope}/alerts``,
``/alerts/{alert_id}``) from what this worker holds.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import faust

from schemas import DeadLetterReason, ScopedSignal
from schemas.registry import SCOPED_SIGNALS
from streams.core.alerts.riskmap import RiskMap
from streams.core.alerts.scopes import ScopeEngine
from streams.runtime.hop import Hop, Result

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline


def register(pipe: Pipeline) -> None:
    index = pipe.regions
    engine = ScopeEngine(pipe.catalogue, index)
    table = pipe.table("scope-windows")
    hop: Hop[ScopedSignal] = Hop(pipe, "assess_scopes", SCOPED_SIGNALS)
    topic_name = pipe.settings.topic(SCOPED_SIGNALS.name)

    def core(scoped: ScopedSignal, partition: int) -> Result:
        step = engine.on_signal(scoped, table.get, partition)

        def commit() -> None:
            for k, v in step.writes.items():
                if v is not None:
                    table[k] = v
                elif k in table:
                    del table[k]

        dead = (DeadLetterReason.LATE, step.late) if step.late else None
        return Result(outputs=step.alerts, commit=commit, dead_letter=dead)

    async def handle(event: faust.EventT) -> None:
        await hop.handle(event, functools.partial(core, partition=event.message.partition))

    pipe.wiring.on("assess_scopes", [SCOPED_SIGNALS], handle)

    def held() -> tuple[list[int], RiskMap]:
        """The map from the partitions this worker is active for (not standbys)."""
        actives = sorted(
            tp.partition for tp in pipe.app.assignor.assigned_actives() if tp.topic == topic_name
        )
        entries = [(k, v) for k, v in list(table.items()) if v and v.get("p") in actives]
        return actives, RiskMap(index, entries)

    @pipe.app.page("/map")
    async def risk_map(web: Any, request: Any) -> Any:
        partitions, m = held()
        with_ids = request.query.get("ids", "") not in ("", "0", "false")
        return web.json(
            {
                "partitions": partitions,
                "watermarks": m.watermarks,
                "scopes": m.levels(with_ids=with_ids),
            }
        )

    @pipe.app.page("/map/{scope}/alerts")
    async def scope_alerts(web: Any, request: Any, scope: str) -> Any:
        partitions, m = held()
        if scope not in m.kinds:
            return web.json({"error": f"unknown scope {scope!r}"}, status=404)
        return web.json(
            {
                "partitions": partitions,
                "scope": scope,
                "kind": m.kinds[scope],
                "level": m.level(scope),
                "alerts": m.scope_alerts(scope),
            }
        )

    @pipe.app.page("/alerts/{alert_id}")
    async def alert_portrait(web: Any, request: Any, alert_id: str) -> Any:
        partitions, m = held()
        alert = m.alerts.get(alert_id)
        if alert is None:
            return web.json(
                {
                    "error": f"alert {alert_id!r} is not held by this worker",
                    "partitions": partitions,
                },
                status=404,
            )
        return web.json(alert)
