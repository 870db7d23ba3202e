"""The worker's web pages: readiness and the risk map, from what this worker holds.

Where this sits: beside the flow, serving operators and supervisors over the
worker's web server (localhost by default; Faust's table, router, graph and
statistics views are off). ``/ready`` answers 200 once the worker has
partitions, has recovered its tables and is not rebalancing. The risk map
(``/map``, ``/map/{scope}/alerts``, ``/alerts/{alert_id}``) is read from the
scope windows of the partitions this worker is active for
(:class:`~streams.core.alerts.riskmap.RiskMap`); ``yujing map`` merges the maps of
several workers. With ``YUJING_WEB_TOKEN`` set the map pages need it as a bearer
token (:mod:`streams.runtime.webauth`); ``/ready`` stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted
from pydantic import SecretStr

from streams.core.alerts.riskmap import RiskMap
from streams.core.shared.regions import RegionIndex
from streams.runtime.webauth import guarded


def _assigned(app: faust.App) -> int:
    """Partitions assigned to this worker; none while its consumer has not started (Faust
    starts the web server first, so a readiness probe can come before the consumer)."""
    consumer = app._consumer  # never create one from a probe
    if consumer is None:
        return 0
    try:
        return len(consumer.assignment())
    except ConsumerNotStarted:
        return 0


def add_ready_page(app: faust.App) -> None:
    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        assigned = _assigned(app)
        recovered = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
        ok = assigned > 0 and recovered and not app.rebalancing
        return web.json(
            {"ready": ok, "assigned_partitions": assigned, "recovered": recovered},
            status=200 if ok else 503,
        )


def add_map_pages(
    app: faust.App,
    table: Any,
    index: RegionIndex,
    partitions: Callable[[], list[int]],
    token: SecretStr | None = None,
) -> None:
    """The risk map over ``table`` (the scope windows) of the ``partitions`` held; with
    ``token``, only for requests that carry it."""
    guard = guarded(token)

    def held() -> tuple[list[int], RiskMap]:
        actives = partitions()
        entries = [(k, v) for k, v in list(table.items()) if v and v.get("p") in actives]
        return actives, RiskMap(index, entries)

    @app.page("/map")
    @guard
    async def risk_map(web: Any, request: Any) -> Any:
        held_partitions, m = held()
        with_ids = request.query.get("ids", "") not in ("", "0", "false")
        return web.json(
            {
                "partitions": held_partitions,
                "watermarks": m.watermarks,
                "scopes": m.levels(with_ids=with_ids),
            }
        )

    @app.page("/map/{scope}/alerts")
    @guard
    async def scope_alerts(web: Any, request: Any, scope: str) -> Any:
        held_partitions, m = held()
        if scope not in m.kinds:
            return web.json({"error": f"unknown scope {scope!r}"}, status=404)
        return web.json(
            {
                "partitions": held_partitions,
                "scope": scope,
                "kind": m.kinds[scope],
                "level": m.level(scope),
                "alerts": m.scope_alerts(scope),
            }
        )

    @app.page("/alerts/{alert_id}")
    @guard
    async def alert_portrait(web: Any, request: Any, alert_id: str) -> Any:
        held_partitions, m = held()
        alert = m.alerts.get(alert_id)
        if alert is None:
            return web.json(
                {
                    "error": f"alert {alert_id!r} is not held by this worker",
                    "partitions": held_partitions,
                },
                status=404,
            )
        return web.json(alert)
