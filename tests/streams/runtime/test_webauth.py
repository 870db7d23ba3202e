"""Bearer tokens on the worker's pages (runtime/webauth.py), served broker-free.

The worker as ``create_pipeline`` builds it, served by aiohttp's test server on
127.0.0.1: with ``YUJING_WEB_TOKEN`` the risk map answers only a request carrying
it, with ``YUJING_METRICS_TOKEN`` so does ``/metrics`` (with its own token), and
anything else gets 401 with ``WWW-Authenticate: Bearer``; ``/ready`` stays open;
without tokens every page is open as before. The clients (``yujing map``, the
benchmark's metrics polling) are run against the same server over real HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from benchmarks.stack import metric_sum
from streams.core.shared.config import ConfigError
from streams.runtime.app import create_pipeline
from streams.runtime.settings import Settings
from streams.tools.map import MapError, fetch

WEB = "map-token-0123456789abcdef"
METRICS = "metrics-token-0123456789abc"
MAP_PAGES = ("/map", "/map?ids=1", "/map/wuchang/alerts", "/alerts/alert-x")


def _serve(tmp_path: Path, env: dict[str, str], check: Callable[..., Awaitable[None]]) -> None:
    settings = Settings.from_env(environ=env, data_dir=tmp_path)
    pipe = create_pipeline(settings, registry=CollectorRegistry())
    pipe.metrics.events_in.labels("probe").inc(3)

    async def main() -> None:
        pipe.app.web.init_server()  # as the worker does
        served = pipe.app.web.web_app  # type: ignore[attr-defined]  # the aiohttp driver's app
        async with TestClient(TestServer(served)) as client:
            await check(client, settings)

    asyncio.run(main())


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _refused(client: TestClient, path: str, **kwargs: Any) -> None:
    response = await client.get(path, **kwargs)
    assert response.status == 401, path
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Bearer" in (await response.json())["error"]


def test_the_map_needs_the_web_token_and_metrics_the_metrics_token(tmp_path: Path) -> None:
    env = {"YUJING_WEB_TOKEN": WEB, "YUJING_METRICS_TOKEN": METRICS}

    async def check(client: TestClient, settings: Settings) -> None:
        for path in MAP_PAGES:
            await _refused(client, path)  # no token
            await _refused(client, path, headers=_auth(WEB[:-1] + "X"))  # a wrong one
            await _refused(client, path, headers=_auth(METRICS))  # the other page's
        assert (await client.head("/map")).status == 401
        assert (await client.get("/map", headers={"Authorization": WEB})).status == 401
        page = await client.get("/map", headers=_auth(WEB))
        assert page.status == 200
        assert set(await page.json()) == {"partitions", "watermarks", "scopes"}
        assert (await client.get("/map/nowhere/alerts", headers=_auth(WEB))).status == 404

        await _refused(client, "/metrics")
        await _refused(client, "/metrics", headers=_auth(WEB))  # Prometheus has its own
        metrics = await client.get("/metrics", headers=_auth(METRICS))
        assert metrics.status == 200
        assert "yujing_events_in_total" in await metrics.text()

        ready = await client.get("/ready")  # probes carry no token; it holds no data
        assert ready.status == 503
        assert (await ready.json())["ready"] is False

    _serve(tmp_path, env, check)


def test_without_tokens_every_page_is_open(tmp_path: Path) -> None:
    async def check(client: TestClient, settings: Settings) -> None:
        assert (await client.get("/map")).status == 200
        assert (await client.get("/map", headers=_auth("anything-at-all-123"))).status == 200
        assert (await client.get("/metrics")).status == 200
        assert (await client.get("/ready")).status == 503

    _serve(tmp_path, {}, check)


@pytest.mark.parametrize(
    ("env", "open_page", "closed_page"),
    [
        ({"YUJING_WEB_TOKEN": WEB}, "/metrics", "/map"),
        ({"YUJING_METRICS_TOKEN": METRICS}, "/map", "/metrics"),
    ],
)
def test_each_token_guards_only_its_own_pages(
    tmp_path: Path, env: dict[str, str], open_page: str, closed_page: str
) -> None:
    async def check(client: TestClient, settings: Settings) -> None:
        assert (await client.get(open_page)).status == 200
        await _refused(client, closed_page)

    _serve(tmp_path, env, check)


def test_yujing_map_and_the_bench_send_the_tokens_of_their_settings(tmp_path: Path) -> None:
    env = {"YUJING_WEB_TOKEN": WEB, "YUJING_METRICS_TOKEN": METRICS}

    async def check(client: TestClient, settings: Settings) -> None:
        base = str(client.make_url("")).rstrip("/")
        merged = await asyncio.to_thread(fetch, [base], token=settings.web_token)
        levels = {scope["level"] for scope in merged["scopes"].values()}
        assert levels == {"none"}  # the district's scopes, nothing held yet: answered
        with pytest.raises(MapError, match="wants a YUJING_WEB_TOKEN"):
            await asyncio.to_thread(fetch, [base])
        other = Settings.from_env({"YUJING_WEB_TOKEN": "x" * 16}).web_token
        with pytest.raises(MapError, match="wants a different YUJING_WEB_TOKEN"):
            await asyncio.to_thread(fetch, [base], token=other)

        sample = ("yujing_events_in_total", 'topic="probe"')
        with pytest.raises(RuntimeError, match="wants the workers' YUJING_METRICS_TOKEN"):
            await asyncio.to_thread(metric_sum, [base], *sample)
        token = settings.metrics_token
        assert await asyncio.to_thread(metric_sum, [base], *sample, token) == 3.0

    _serve(tmp_path, env, check)


@pytest.mark.parametrize(
    "value", ["abc123", "only-fifteen-ch", "sixteen chars ok", "sixteen-chärs-ok"]
)
def test_a_short_or_unsendable_token_fails_at_load_naming_its_variable(value: str) -> None:
    for variable in ("YUJING_WEB_TOKEN", "YUJING_METRICS_TOKEN"):
        with pytest.raises(ConfigError) as err:
            Settings.from_env({variable: value})
        message = str(err.value)
        assert message.startswith(f"{variable}: ")
        assert "got <hidden>" in message and value not in message
        assert "16 characters" in message or "visible ASCII" in message


def test_a_token_is_kept_secret_in_the_settings() -> None:
    settings = Settings.from_env({"YUJING_WEB_TOKEN": WEB, "YUJING_METRICS_TOKEN": METRICS})
    assert settings.web_token is not None and settings.metrics_token is not None
    assert (settings.web_token.get_secret_value(), settings.metrics_token.get_secret_value()) == (
        WEB,
        METRICS,
    )
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert WEB not in shown and METRICS not in shown
    assert Settings.from_env({"YUJING_WEB_TOKEN": "  "}).web_token is None  # empty: unset
