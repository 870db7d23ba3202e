"""``yujing console`` (streams.tools.console): one console over two workers, no broker.

Two fake workers (aiohttp test servers answering canned ``/map``, ``/map/{scope}/alerts``,
``/alerts/{id}``, ``/orders`` and ``/console/layout`` JSON, and wanting the web token)
behind the console's own aiohttp app: levels merged by maximum, alerts and orders as
unions, a portrait from whichever worker holds it (404 when none), the token required
on the data pages and sent on to the workers, a worker down named in a 502, and the
page and its scripts served open.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from streams.cli import COMMANDS
from streams.dev.broker import find_free_port
from streams.runtime.console import ASSETS
from streams.tools.console import make_app

TOKEN = "console-tool-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = "2026-03-01T00:00:00Z"


def _scopes(level: str, ids: list[str]) -> dict[str, Any]:
    return {"linping": {"kind": "town", "level": level, "open_alerts": len(ids), "alert_ids": ids}}


def _alert(alert_id: str, level: str, version: int = 1) -> dict[str, Any]:
    return {"alert_id": alert_id, "version": version, "level": level, "kind": "single"}


def _order(order_id: str, alert_id: str, deadline: str) -> dict[str, Any]:
    return {"order_id": order_id, "alert_id": alert_id, "deadline": deadline, "stage": "signed"}


#: worker A holds partition 0: alert a1 (low) and its order
A = {
    "/map": {"partitions": [0], "watermarks": {}, "scopes": _scopes("low", ["a1"])},
    "/map/linping/alerts": {"partitions": [0], "kind": "town", "alerts": [_alert("a1", "low")]},
    "/alerts/a1": {**_alert("a1", "low"), "summary": "held by A"},
    "/orders": {
        "now": T0,
        "speed": 60.0,
        "partitions": [0],
        "total": 1,
        "orders": [_order("o1", "a1", "2026-03-01T00:05:00Z")],
    },
    "/console/layout": {"district": "yuhang", "items": [], "industries": [], "from": "A"},
}
#: worker B holds partition 1: a1 again (a partition moving) and a2 (high)
B = {
    "/map": {"partitions": [1], "watermarks": {}, "scopes": _scopes("high", ["a1", "a2"])},
    "/map/linping/alerts": {
        "partitions": [1],
        "kind": "town",
        "alerts": [_alert("a2", "high"), _alert("a1", "low")],
    },
    "/alerts/a2": {**_alert("a2", "high"), "summary": "held by B"},
    "/orders": {
        "now": "2026-03-01T00:00:01Z",
        "speed": 60.0,
        "partitions": [1],
        "total": 2,
        "orders": [
            _order("o2", "a2", "2026-03-01T00:01:00Z"),
            _order("o1", "a1", "2026-03-01T00:05:00Z"),
        ],
    },
    "/console/layout": {"district": "yuhang", "items": [], "industries": [], "from": "B"},
}


def fake_worker(pages: dict[str, Any], seen: list[dict[str, str]]) -> web.Application:
    """A worker answering ``pages`` (by path; 404 otherwise) to requests with the token;
    what each request asked (path, query, authorization) goes to ``seen``."""

    async def answer(request: web.Request) -> web.StreamResponse:
        seen.append(
            {
                "path": request.path,
                "query": request.query_string,
                "auth": request.headers.get("Authorization", ""),
            }
        )
        if request.headers.get("Authorization") != AUTH["Authorization"]:
            return web.json_response({"error": "unauthorized"}, status=401)
        body = pages.get(request.path)
        if body is None:
            return web.json_response({"error": f"not here: {request.path}"}, status=404)
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    return app


Check = Callable[[TestClient, list[dict[str, str]]], Awaitable[None]]


def _run(check: Check, dead: bool = False, token: str | None = TOKEN) -> None:
    """``check`` against a console over workers A and B (and a dead one, with ``dead``)."""

    async def main() -> None:
        seen: list[dict[str, str]] = []
        async with TestServer(fake_worker(A, seen)) as a, TestServer(fake_worker(B, seen)) as b:
            bases = [str(a.make_url("")), str(b.make_url(""))]
            if dead:
                bases.append(f"http://127.0.0.1:{find_free_port()}")
            app = make_app(bases, SecretStr(token) if token else None, timeout=3.0)
            async with TestClient(TestServer(app)) as client:
                await check(client, seen)

    asyncio.run(main())


def test_the_map_merges_levels_by_maximum_and_alerts_as_a_union() -> None:
    async def check(client: TestClient, seen: list[dict[str, str]]) -> None:
        answer = await client.get("/map?ids=1", headers=AUTH)
        assert answer.status == 200
        body = await answer.json()
        assert body["partitions"] == [0, 1]
        assert body["scopes"]["linping"]["level"] == "high"
        assert body["scopes"]["linping"]["open_alerts"] == 2  # a1 counted once
        alerts = await (await client.get("/map/linping/alerts", headers=AUTH)).json()
        assert [a["alert_id"] for a in alerts["alerts"]] == ["a2", "a1"]  # most severe first
        assert alerts["level"] == "high"
        # every worker was asked, with the token
        asked = {(s["path"], s["query"]) for s in seen}
        assert ("/map", "ids=1") in asked and ("/map/linping/alerts", "") in asked
        assert {s["auth"] for s in seen} == {AUTH["Authorization"]}

    _run(check)


def test_an_unknown_scope_and_an_unknown_alert_are_404() -> None:
    async def check(client: TestClient, seen: list[dict[str, str]]) -> None:
        unknown = await client.get("/map/nowhere/alerts", headers=AUTH)
        assert unknown.status == 404 and "nowhere" in (await unknown.json())["error"]
        missing = await client.get("/alerts/nope", headers=AUTH)
        assert missing.status == 404
        assert "nope" in (await missing.json())["error"]

    _run(check)


def test_a_portrait_comes_from_whichever_worker_holds_it() -> None:
    async def check(client: TestClient, seen: list[dict[str, str]]) -> None:
        one = await (await client.get("/alerts/a1", headers=AUTH)).json()
        two = await (await client.get("/alerts/a2", headers=AUTH)).json()
        assert (one["summary"], two["summary"]) == ("held by A", "held by B")

    _run(check)


def test_orders_are_a_union_by_id_with_the_first_workers_clock() -> None:
    async def check(client: TestClient, seen: list[dict[str, str]]) -> None:
        body = await (await client.get("/orders?alert=a1,a2", headers=AUTH)).json()
        assert [o["order_id"] for o in body["orders"]] == ["o2", "o1"]  # most urgent first
        assert (body["now"], body["speed"], body["total"]) == (T0, 60.0, 2)
        assert {s["query"] for s in seen if s["path"] == "/orders"} == {"alert=a1,a2"}
        layout = await (await client.get("/console/layout", headers=AUTH)).json()
        assert layout["from"] == "A"  # the first worker's

    _run(check)


def test_the_data_pages_need_the_token_and_the_page_does_not() -> None:
    async def check(client: TestClient, seen: list[dict[str, str]]) -> None:
        for path in ("/map", "/map/linping/alerts", "/alerts/a1", "/orders", "/console/layout"):
            refused = await client.get(path)
            assert refused.status == 401, path
            assert refused.headers["WWW-Authenticate"] == "Bearer"
            wrong = await client.get(path, headers={"Authorization": "Bearer " + "x" * 24})
            assert wrong.status == 401, path
        assert seen == []  # nothing asked of the workers for a refused request
        page = await client.get("/console")
        assert page.status == 200 and page.content_type == "text/html"
        html = await page.text()
        assert 'id="map"' in html
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        scripts = re.findall(r'<script src="([^"]+)"', html)
        assert scripts == [
            "/console/console-map.js",
            "/console/console-panels.js",
            "/console/console.js",
        ]
        for name, kind in ASSETS.items():
            served = await client.get(f"/console/{name}" if name != "index.html" else "/console/")
            assert (served.status, served.content_type) == (200, kind), name

    _run(check)


def test_without_a_token_a_worker_that_wants_one_is_named_in_a_502() -> None:
    async def check(client: TestClient, seen: list[dict[str, str]]) -> None:
        answer = await client.get("/map")  # open: no token set here
        assert answer.status == 502
        assert "YUJING_WEB_TOKEN" in (await answer.json())["error"]

    _run(check, token=None)


@pytest.mark.parametrize(
    "path", ["/map?ids=1", "/map/linping/alerts", "/alerts/a1", "/orders?alert=a1"]
)
def test_a_worker_down_is_a_502_naming_it(path: str) -> None:
    async def check(client: TestClient, seen: list[dict[str, str]]) -> None:
        answer = await client.get(path, headers=AUTH)
        assert answer.status == 502, path
        error = (await answer.json())["error"]
        assert re.search(r"worker not reachable at http://127\.0\.0\.1:\d+", error), error

    _run(check, dead=True)


def test_the_command_is_registered() -> None:
    assert COMMANDS["console"][:2] == ("streams.tools.console", "add_console_command")
