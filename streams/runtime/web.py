"""The worker's web pages: readiness and the risk map, from what this worker holds.

Where this sits: beside the flow, serving operators and supervisors over the
worker's web server (localhost by default; Faust's table, router, graph and
statistics views are off). ``/ready`` answers 200 once the worker has
partitions, has recovered its tables and is not rebalancing. The risk map
(``/map``, ``/map/{scope}/alerts``, ``/alerts/{alert_id}``) is read from the
scope windows of the partitions this worker is active for
(:class:`~streams.core.alerts.riskmap.RiskMap`); ``yujing map`` merges the maps of
several workers. With ``YUJING_WEB_TOKEN`` set the map pages need it as a bearer
token (:mod:`streams.runtime.webauth`); ``/ready`` stays open. ``/orders`` (same
token) shows the dispatch orders this worker tracks, receivers masked
(:mod:`streams.core.orders.view`): those of ``?alert=ID1,ID2``, else every open one
(the most urgent :data:`~streams.core.orders.view.MAX_ORDERS`), with the worker's
clock (``now``, ISO 8601, and ``speed``: simulated seconds per wall second, 0 once a
simulated clock has stopped) so a console counts deadlines down on that clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted
from pydantic import SecretStr

from streams.core.alerts.riskmap import RiskMap
from streams.core.orders.view import MAX_ORDERS, open_orders, orders_for_alerts
from streams.core.shared.clock import Clock, ScaledClock, wall_now
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


def clock_reading(clock: Clock) -> tuple[str, float]:
    """``clock``'s time now (ISO 8601, UTC) and how fast it runs: a simulated clock's
    speed, 0 once it has stopped at its end; 1 for any other clock.

    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> clock_reading(ScaledClock(epoch=t0, anchor=t0, speed=60.0, wall=lambda: t0))
    ('2026-01-01T00:00:00Z', 60.0)
    >>> clock_reading(ScaledClock(epoch=t0, anchor=t0, speed=60.0, wall=lambda: t0, until=t0))
    ('2026-01-01T00:00:00Z', 0.0)
    """
    now = clock()
    speed = 1.0
    if isinstance(clock, ScaledClock):
        speed = 0.0 if clock.until is not None and now >= clock.until else clock.speed
    return now.astimezone(UTC).isoformat().replace("+00:00", "Z"), speed


def add_order_pages(
    app: faust.App,
    table: Any,
    partitions: Callable[[], list[int]],
    token: SecretStr | None = None,
    clock: Clock = wall_now,
) -> None:
    """``/orders`` over ``table`` (the order tracker's records) of the ``partitions``
    held, with the worker's ``clock`` (:func:`clock_reading`); with ``token``, only for
    requests that carry it."""

    @app.page("/orders")
    @guarded(token)
    async def orders(web: Any, request: Any) -> Any:
        held_partitions = partitions()
        asked = [a for a in request.query.get("alert", "").split(",") if a.strip()]
        if asked:
            found = orders_for_alerts(table, (a.strip() for a in asked), held_partitions)
            total = len(found)
        else:
            found, total = open_orders(list(table.values()), held_partitions)
        now, speed = clock_reading(clock)
        return web.json(
            {
                "now": now,
                "speed": speed,
                "partitions": held_partitions,
                "orders": found,
                "total": total,
                "limit": MAX_ORDERS,
            }
        )
