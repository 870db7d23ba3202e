"""The operator console (runtime/console.py) and ``/orders``, served broker-free.

The worker as ``create_pipeline`` builds it, on aiohttp's test server: ``/console``
and its script and style are open (they carry no data) and name every container the
script fills; ``/console/layout`` draws every grid cell of the district; with
``YUJING_WEB_TOKEN`` the layout and ``/orders`` need the token. ``/orders`` over a
table of tracker records shows an alert's order with its stage and deadline, and no
phone number of the district anywhere, and the worker's clock (its time and speed: the
deadlines' clock, which a test's simulated clock runs fast).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import faust
from aiohttp.test_utils import TestClient, TestServer
from districts import small_regions
from prometheus_client import CollectorRegistry

from streams.core.orders.create import order_id_for
from streams.core.orders.lifecycle import OrderRecord
from streams.core.shared.clock import ScaledClock
from streams.core.shared.regions import load_regions
from streams.runtime import web
from streams.runtime.app import create_pipeline
from streams.runtime.console import ASSETS, add_console_pages
from streams.runtime.settings import Settings

TOKEN = "console-token-0123456789"
HOOKS = (
    'id="map"',
    'id="industries"',
    'id="alerts"',
    'id="portrait"',
    'id="orders"',
    'id="trend"',
    'id="crumbs"',
    'id="up"',
    'id="view-toggle"',
    'data-updated="0"',
)


def _serve(app: faust.App, check: Callable[[TestClient], Awaitable[None]]) -> None:
    async def main() -> None:
        app.web.init_server()  # as the worker does
        served = app.web.web_app  # type: ignore[attr-defined]  # the aiohttp driver's app
        async with TestClient(TestServer(served)) as client:
            await check(client)

    asyncio.run(main())


def _worker(tmp_path: Path, env: dict[str, str]) -> faust.App:
    settings = Settings.from_env(environ=env, data_dir=tmp_path)
    return create_pipeline(settings, registry=CollectorRegistry()).app


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_page_and_its_assets_are_open_and_carry_the_hooks(tmp_path: Path) -> None:
    async def check(client: TestClient) -> None:
        page = await client.get("/console")
        assert page.status == 200
        assert page.content_type == "text/html"
        html = await page.text()
        for hook in HOOKS:
            assert hook in html, hook
        assert "预警" in html and "Alerts" in html  # bilingual labels
        assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from elsewhere
        # the scripts in the order they depend on each other, each one served
        assert re.findall(r'<script src="([^"]+)"', html) == [
            f"/console/{name}" for name in ASSETS if name.endswith(".js")
        ]
        for path, kind in [(f"/console/{n}", k) for n, k in ASSETS.items() if n != "index.html"]:
            asset = await client.get(path)
            assert (asset.status, asset.content_type) == (200, kind), path
            assert "http://" not in (body := await asset.text()) or "w3.org" in body
            assert "https://" not in body
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]

    _serve(_worker(tmp_path, {"YUJING_WEB_TOKEN": TOKEN}), check)


def test_the_layout_covers_every_grid_cell_and_needs_the_token(tmp_path: Path) -> None:
    async def check(client: TestClient) -> None:
        assert (await client.get("/console/layout")).status == 401
        answer = await client.get("/console/layout", headers=_auth(TOKEN))
        assert answer.status == 200
        body = await answer.json()
        drawn = {it["scope"] for it in body["items"] if it["kind"] == "grid_cell"}
        model = load_regions().model
        assert drawn == {g.id for _, _, g in model.cells()}
        assert {i["scope"] for i in body["industries"]} == {
            f"industry:{k.industry}" for k in model.site_kinds
        }

    _serve(_worker(tmp_path, {"YUJING_WEB_TOKEN": TOKEN}), check)


def test_orders_need_the_web_token(tmp_path: Path) -> None:
    async def check(client: TestClient) -> None:
        for path in ("/orders", "/orders?alert=a1,a2"):
            refused = await client.get(path)
            assert refused.status == 401, path
            assert refused.headers["WWW-Authenticate"] == "Bearer"
            assert (await client.get(path, headers=_auth("x" * 24))).status == 401
            answer = await client.get(path, headers=_auth(TOKEN))
            assert answer.status == 200
            body = await answer.json()
            assert body["orders"] == [] and body["speed"] == 1.0  # no partitions held yet
            assert datetime.fromisoformat(body["now"].replace("Z", "+00:00"))

    _serve(_worker(tmp_path, {"YUJING_WEB_TOKEN": TOKEN}), check)


def _record(alert_id: str, receiver: str, partition: int = 0, **kw: Any) -> dict[str, Any]:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    return OrderRecord(
        order_id=order_id_for(alert_id),
        alert_id=alert_id,
        partition=partition,
        sla_class="emergency",  # type: ignore[arg-type]
        state="open",  # type: ignore[arg-type]
        deadlines={"signed": t0 + timedelta(minutes=5), "arrived": t0 + timedelta(minutes=20)},
        escalate_to="district.yuhang",
        receiver=receiver,
        channels=["sms", "voice"],
        **kw,
    ).to_json()


def test_orders_show_stage_deadline_and_breaches_and_no_phone_number() -> None:
    regions = small_regions()
    receivers = ["grid.cell.wuchang.wuchang-2.01", "party.site.wuchang.noodle", "+8613812345678"]
    table = {
        r["order_id"]: r
        for r in (
            _record("alert-1", receivers[0], breached=["signed"]),
            _record("alert-2", receivers[1]),
            _record("alert-3", receivers[2]),
            _record("alert-4", receivers[0], partition=1),  # not held
        )
    }
    app = faust.App("console-test", web_host="127.0.0.1")
    t0 = datetime(2026, 3, 1, 0, 6, tzinfo=UTC)  # the "signed" deadline 1 minute past
    clock = ScaledClock(epoch=t0, anchor=t0, speed=60.0, wall=lambda: t0)
    web.add_order_pages(app, table, lambda: [0], token=None, clock=clock)
    add_console_pages(app, regions)
    phones = (
        {c.phone for c in (regions.model.district.office,)}
        | {t.office.phone for t in regions.model.towns}
        | {g.worker.phone for _, _, g in regions.model.cells()}
        | {s.party.phone for s in regions.model.sites}
        | {d.phone for d in regions.model.departments}
        | {"+8613812345678"}
    )

    async def check(client: TestClient) -> None:
        one = await (await client.get("/orders?alert=alert-1,alert-4,nope")).json()
        [order] = one["orders"]
        assert order["order_id"] == order_id_for("alert-1")
        assert (order["stage"], order["deadline"]) == ("signed", "2026-03-01T00:05:00Z")
        assert order["breached"] == ["signed"] and order["receiver"] == "grid.***.01"
        assert (one["now"], one["speed"]) == ("2026-03-01T00:06:00Z", 60.0)
        every = await client.get("/orders")
        text = await every.text()
        assert {o["alert_id"] for o in (await every.json())["orders"]} == {
            "alert-1",
            "alert-2",
            "alert-3",
        }
        for phone in phones:
            assert phone not in text and phone.lstrip("+") not in text
        assert not re.search(r"[0-9]{7,}", text)
        layout = await client.get("/console/layout")  # no token asked: it is open
        assert layout.status == 200

    _serve(app, check)
