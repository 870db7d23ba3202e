"""``yujing console``: the operator console over every worker, not just one.

(alert → order → **operator view**.) Each worker serves the console
(:mod:`streams.runtime.console`) over the partitions it holds; with more than one
worker each page shows part of the city. This small server serves the same page
and scripts and answers the data the page asks for by asking every worker named
and merging, as ``yujing map`` does (:mod:`streams.tools.map`):

* ``/map``: levels by maximum, open alerts as a union (``merge_maps``);
* ``/map/{scope}/alerts``: the union, latest version of each (``merge_scope_alerts``;
  404 when no worker knows the scope);
* ``/alerts/{id}``: from whichever worker holds it (404 when none does);
* ``/orders``: the union by order id, with ``now``/``speed`` (the clock the
  deadlines run on) from the first worker's answer;
* ``/console/layout``: the first worker's (every worker draws the same district).

    yujing console [--port N] [--host 127.0.0.1] [--worker URL ...]

Without ``--worker`` it asks ``http://127.0.0.1:$YUJING_WEB_PORT``. A worker that
does not answer makes a data page answer 502 with a JSON error naming it (the
page shows it): a map missing a worker's partitions would look calmer than the
city is. ``YUJING_WEB_TOKEN`` is sent to the workers and, when set, is required
as a bearer token on this server's data pages too (the page, scripts and style
stay open; open the page with ``#token=<web token>``). Binds 127.0.0.1 unless told.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from streams.core.alerts.riskmap import merge_maps, merge_scope_alerts
from streams.core.orders.view import MAX_ORDERS
from streams.runtime.console import ASSETS, HEADERS, asset, routes
from streams.runtime.webauth import UNAUTHORIZED, authorized, bearer
from streams.tools.map import Json, MapError, default_workers, judge, unreachable

#: the port ``yujing console`` listens on unless told
DEFAULT_PORT = 6080
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Workers:
    """The workers asked, one HTTP session to them all (opened with the server)."""

    def __init__(self, bases: list[str], token: SecretStr | None, timeout: float) -> None:
        self.bases = [b.rstrip("/") for b in bases]
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.session: aiohttp.ClientSession | None = None

    async def one(self, base: str, path: str, missing_ok: bool) -> Json | None:
        assert self.session is not None, "asked before the server started"
        url = base + path
        try:
            async with self.session.get(url, headers=bearer(self.token)) as resp:
                status = resp.status
                try:
                    body = await resp.json(content_type=None)
                except ValueError:  # not JSON: judged by its status
                    body = None
        except (aiohttp.ClientError, TimeoutError) as err:
            raise unreachable(base, err) from None
        return judge(base, url, status, body, self.token, missing_ok)

    async def every(self, path: str, missing_ok: bool = False) -> list[Json]:
        """Every worker's answer to ``path`` (404s left out with ``missing_ok``)."""
        asked = [self.one(base, path, missing_ok) for base in self.bases]
        return [a for a in await asyncio.gather(*asked) if a is not None]


def merge_orders(answers: list[Json]) -> Json:
    """One ``/orders`` answer from the workers': the union by order id, the most urgent
    first; the clock (``now``, ``speed``) of the first answer.

    >>> a = {"now": "T", "speed": 60.0, "partitions": [0], "total": 1,
    ...      "orders": [{"order_id": "o1", "deadline": "2026-01-01T00:05:00Z"}]}
    >>> b = {"now": "U", "speed": 60.0, "partitions": [1], "total": 2,
    ...      "orders": [{"order_id": "o2", "deadline": "2026-01-01T00:01:00Z"},
    ...                 {"order_id": "o1", "deadline": "2026-01-01T00:05:00Z"}]}
    >>> m = merge_orders([a, b])
    >>> [o["order_id"] for o in m["orders"]], m["total"], m["now"], m["partitions"]
    (['o2', 'o1'], 2, 'T', [0, 1])
    """
    orders: dict[str, Json] = {}
    partitions: set[int] = set()
    total = 0
    for answer in answers:
        partitions.update(answer.get("partitions", []))
        total += int(answer.get("total", 0))
        for order in answer.get("orders", []):
            if order["order_id"] in orders:
                total -= 1  # one order counted by two workers (a partition moving)
            else:
                orders[order["order_id"]] = order
    merged = sorted(orders.values(), key=lambda o: (o.get("deadline") or "~", o["order_id"]))
    first = answers[0] if answers else {}
    return {
        "now": first.get("now"),
        "speed": first.get("speed", 1.0),
        "partitions": sorted(partitions),
        "orders": merged[:MAX_ORDERS],
        "total": total,
        "limit": MAX_ORDERS,
    }


def make_app(
    bases: list[str], token: SecretStr | None = None, timeout: float = 5.0
) -> web.Application:
    """The console over ``bases`` (the workers' web addresses), asked with ``token``,
    which this server's data pages then require too."""
    workers = Workers(bases, token, timeout)

    async def session(app: web.Application) -> Any:
        async with aiohttp.ClientSession(timeout=workers.timeout) as s:
            workers.session = s
            yield

    def data(handler: Handler) -> Handler:
        async def page(request: web.Request) -> web.StreamResponse:
            if token is not None and not authorized(request.headers.get("Authorization"), token):
                return web.json_response(
                    UNAUTHORIZED, status=401, headers={"WWW-Authenticate": "Bearer"}
                )
            try:
                return await handler(request)
            except MapError as err:
                return web.json_response({"error": str(err)}, status=502)

        return page

    def static(name: str) -> Handler:
        async def serve(request: web.Request) -> web.StreamResponse:
            return web.Response(text=asset(name), content_type=ASSETS[name], headers=HEADERS)

        return serve

    async def risk_map(request: web.Request) -> web.StreamResponse:
        return web.json_response(merge_maps(await workers.every("/map?ids=1")))

    async def scope_alerts(request: web.Request) -> web.StreamResponse:
        scope = request.match_info["scope"]
        path = f"/map/{urllib.parse.quote(scope, safe=':')}/alerts"
        answers = await workers.every(path, missing_ok=True)
        if not answers:
            return web.json_response({"error": f"no worker knows the scope {scope!r}"}, status=404)
        return web.json_response(merge_scope_alerts(scope, answers))

    async def portrait(request: web.Request) -> web.StreamResponse:
        alert_id = request.match_info["alert_id"]
        path = f"/alerts/{urllib.parse.quote(alert_id, safe='')}"
        answers = await workers.every(path, missing_ok=True)
        if answers:  # the first that holds it (one worker does, bar a partition moving)
            return web.json_response(answers[0])
        return web.json_response(
            {"error": f"alert {alert_id!r} is not held by any worker"}, status=404
        )

    async def orders(request: web.Request) -> web.StreamResponse:
        asked = request.query.get("alert", "")
        path = "/orders" + (f"?alert={urllib.parse.quote(asked, safe=',')}" if asked else "")
        return web.json_response(merge_orders(await workers.every(path)))

    async def layout(request: web.Request) -> web.StreamResponse:
        base = workers.bases[0]
        answer = await workers.one(base, "/console/layout", missing_ok=False)
        return web.json_response(answer, headers={"Cache-Control": "no-cache"})

    app = web.Application()
    app.cleanup_ctx.append(session)
    for path, name in routes():
        app.router.add_get(path, static(name))
    app.router.add_get("/console/layout", data(layout))
    app.router.add_get("/map", data(risk_map))
    app.router.add_get("/map/{scope}/alerts", data(scope_alerts))
    app.router.add_get("/alerts/{alert_id}", data(portrait))
    app.router.add_get("/orders", data(orders))
    return app


def add_console_command(sub: Any) -> None:
    p = sub.add_parser(
        "console",
        help="the operator console over every worker: one page, the workers' answers merged",
        description=(__doc__ or "").split("\n\n")[1],
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    p.add_argument("--host", default="127.0.0.1", help="the address to bind (default 127.0.0.1)")
    p.add_argument(
        "--worker",
        action="append",
        default=[],
        help="a worker's web address, e.g. http://127.0.0.1:6066 (repeat for each worker)",
    )
    p.set_defaults(func=_console)


def _console(args: argparse.Namespace) -> int:
    from streams.runtime.settings import Settings

    settings = Settings.from_env()
    workers = default_workers(args.worker, settings.web_port)
    app = make_app(workers, settings.web_token)
    fragment = "#token=<web token>" if settings.web_token is not None else ""
    said = (
        f"yujing console: http://{args.host}:{args.port}/console{fragment} "
        f"over {', '.join(workers)}"
    )
    try:  # the address said once it listens
        web.run_app(app, host=args.host, port=args.port, print=lambda _: print(said, flush=True))
    except OSError as err:
        print(f"yujing console: cannot listen on {args.host}:{args.port} ({err})", file=sys.stderr)
        return 2
    return 0
