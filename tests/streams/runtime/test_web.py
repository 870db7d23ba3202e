"""The worker's web pages (runtime/web.py), served broker-free by aiohttp's test server.

What operators and their probes see: the server binds to localhost unless told
otherwise, Faust's table/router/graph/stats views are not served (they would show
raw table contents), ``/ready`` answers JSON with 503 until the worker holds
partitions, and the risk map shows only the scope windows of the partitions held.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import faust
import pytest
from aiohttp.test_utils import TestClient, TestServer
from districts import small_regions
from prometheus_client import CollectorRegistry
from scope_scenario import Run, signal

from streams.runtime import web
from streams.runtime.app import create_pipeline
from streams.runtime.settings import Settings

C2 = "cell.wuchang.wuchang-2.01"  # a grid cell of the small test district
L1 = "cell.liangzhu.liangzhu-1.01"  # a grid cell of another town


def _serve(app: faust.App, check: Callable[[TestClient], Awaitable[None]]) -> None:
    async def main() -> None:
        app.web.init_server()  # what the worker does: Faust's own views are added here
        served = app.web.web_app  # type: ignore[attr-defined]  # the aiohttp driver's app
        async with TestClient(TestServer(served)) as client:
            await check(client)

    asyncio.run(main())


def _pipeline(tmp_path: Path, **overrides: Any) -> Any:
    settings = Settings.from_env(environ={}, data_dir=tmp_path, **overrides)
    return create_pipeline(settings, registry=CollectorRegistry())


def test_the_web_server_binds_to_localhost_unless_told_otherwise(tmp_path: Path) -> None:
    conf = _pipeline(tmp_path / "a").app.conf
    assert (conf.web_bind, conf.web_host) == ("127.0.0.1", "127.0.0.1")
    chosen = _pipeline(tmp_path / "b", web_host="0.0.0.0", web_port=16066).app.conf
    assert (chosen.web_bind, chosen.web_port) == ("0.0.0.0", 16066)


def test_faust_table_router_graph_and_stats_views_are_not_served(tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    pipe.context.table("orders")  # a table exists: its view would be /table/orders/

    async def check(client: TestClient) -> None:
        for path in ("/table/", "/table/orders/", "/router/", "/graph/", "/stats/"):
            assert (await client.get(path)).status == 404, path
        metrics = await client.get("/metrics")  # what is served: our pages and metrics
        assert metrics.status == 200
        assert "yujing_events_in_total" in await metrics.text()

    _serve(pipe.app, check)


def test_ready_answers_503_in_json_before_the_consumer_has_started(tmp_path: Path) -> None:
    # Faust starts the web server before the consumer: a readiness probe arrives then
    pipe = _pipeline(tmp_path)
    assert pipe.app.consumer is not None  # made with the worker's services, not yet started

    async def check(client: TestClient) -> None:
        response = await client.get("/ready")
        assert response.status == 503
        assert await response.json() == {
            "ready": False,
            "assigned_partitions": 0,
            "recovered": False,
        }

    _serve(pipe.app, check)


def _map_app(held: list[int]) -> faust.App:
    """A worker's map over scope windows of two partitions: the town of C2 and the district
    on partition 0, the town of L1 on partition 1 (scope windows are keyed by scope)."""
    run0 = Run().feed(signal("smoke_in_rental_flat", C2, 10))
    run1 = Run().feed(signal("smoke_in_rental_flat", L1, 12))
    table = dict(run0.table)
    table.update({k: {**v, "p": 1} for k, v in run1.table.items() if "town:liangzhu" in k})
    app = faust.App("map-test", web_host="127.0.0.1")
    web.add_map_pages(app, table, small_regions(), lambda: held)
    return app


def test_the_map_shows_only_the_partitions_this_worker_holds() -> None:
    async def check_both(client: TestClient) -> None:
        body = await (await client.get("/map")).json()
        assert body["partitions"] == [0, 1]
        assert body["scopes"][C2]["level"] == body["scopes"][L1]["level"] == "high"
        assert body["scopes"]["liangzhu"]["level"] == "high"
        assert "alert_ids" not in body["scopes"][C2]

    _serve(_map_app([0, 1]), check_both)

    async def check_one(client: TestClient) -> None:
        body = await (await client.get("/map?ids=1")).json()
        assert body["partitions"] == [0]
        assert body["scopes"][C2]["level"] == body["scopes"]["yuhang"]["level"] == "high"
        assert body["scopes"][C2]["alert_ids"]  # asked for, so that `yujing map` can merge
        assert body["scopes"]["liangzhu"] == {
            "kind": "town",
            "level": "none",
            "open_alerts": 0,
            "alert_ids": [],
        }

    _serve(_map_app([0]), check_one)


def test_scope_and_alert_pages_answer_404_with_what_is_held() -> None:
    async def check(client: TestClient) -> None:
        unknown = await client.get("/map/nowhere/alerts")
        assert unknown.status == 404
        assert "nowhere" in (await unknown.json())["error"]
        town = await (await client.get("/map/wuchang/alerts")).json()
        assert (town["kind"], town["level"], town["partitions"]) == ("town", "high", [0])
        [held_alert] = [a["alert_id"] for a in town["alerts"] if a["kind"] == "single"]
        portrait = await client.get(f"/alerts/{held_alert}")
        assert portrait.status == 200
        assert (await portrait.json())["scope"] == C2
        missing = await client.get("/alerts/alert-elsewhere")
        assert missing.status == 404
        assert (await missing.json())["partitions"] == [0]

    _serve(_map_app([0]), check)


@pytest.mark.parametrize(
    "stamp",
    ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59+00:00"],
)
def test_every_page_answers_200_whatever_time_is_stored(stamp: str) -> None:
    """A time from a broken clock stored before plausibility was judged (or from a
    restored changelog) shows clamped to what a datetime holds: no page answers 500."""
    from datetime import datetime

    odd = signal("smoke_in_rental_flat", C2, 10).model_copy(
        update={"event_time": datetime.fromisoformat(stamp)}
    )
    run = Run().feed(signal("smoke_in_rental_flat", C2, 5, n=1), odd)
    app = faust.App("map-test", web_host="127.0.0.1")
    web.add_map_pages(app, dict(run.table), small_regions(), lambda: [0])

    async def check(client: TestClient) -> None:
        assert (await client.get("/map")).status == 200
        town = await client.get("/map/wuchang/alerts")
        assert town.status == 200
        ids = [a["alert_id"] for a in (await town.json())["alerts"]]
        assert ids, "the map holds the alerts of both signals"
        for alert_id in ids:
            assert (await client.get(f"/alerts/{alert_id}")).status == 200, alert_id

    _serve(app, check)
