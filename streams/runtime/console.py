"""The operator console: one page over the risk map, its alerts and their orders.

Where this sits: beside the flow, at its end (alert → order → **operator view**),
on the worker's web server next to the risk map (:mod:`streams.runtime.web`).
``/console`` is a static page (``console/index.html``, its scripts
``console-map.js``, ``console-panels.js`` and ``console.js``, ``console.css``, shipped
in the package; plain JS, nothing fetched from elsewhere)
that draws the district as nested rectangles (``/console/layout``, from
:mod:`streams.core.alerts.layout`), colours them from ``/map``, lists the
selected scope's alerts (``/map/{scope}/alerts``), an alert's portrait
(``/alerts/{id}``) and the orders of the listed alerts (``/orders?alert=...``),
polling every few seconds.

The page, script and style carry no data: they are served without a token. The
data (``/console/layout`` and the map and order pages) keep the web token
(:mod:`streams.runtime.webauth`); the page sends it as a bearer token when its
URL carries ``#token=...`` (a fragment never reaches the server).
``yujing console`` (:mod:`streams.tools.console`) serves the same files over the
merged answers of several workers.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import faust
from pydantic import SecretStr

from streams.core.alerts.layout import layout
from streams.core.shared.regions import RegionIndex
from streams.runtime.webauth import guarded

STATIC = Path(__file__).resolve().parent / "console"
#: file → content type of what ``/console`` serves
ASSETS = {
    "index.html": "text/html",
    "console-map.js": "application/javascript",  # scripts in the order the page loads them
    "console-panels.js": "application/javascript",
    "console.js": "application/javascript",
    "console.css": "text/css",
}
#: what a browser may load and send from the page: this server only
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@functools.cache
def asset(name: str) -> str:
    """The text of one of :data:`ASSETS` (read once)."""
    return (STATIC / name).read_text(encoding="utf-8")


def routes() -> list[tuple[str, str]]:
    """(path, asset) of every static file the console serves: the page at ``/console``
    and ``/console/``, each other asset at ``/console/<name>``."""
    return [("/console", "index.html"), ("/console/", "index.html")] + [
        (f"/console/{name}", name) for name in ASSETS if name != "index.html"
    ]


def add_console_pages(app: faust.App, index: RegionIndex, token: SecretStr | None = None) -> None:
    """``/console`` and its assets (open), ``/console/layout`` (with ``token``, if any)."""
    geometry: dict[str, Any] = {}

    def page(path: str, name: str) -> None:
        async def serve(web: Any, request: Any) -> Any:
            return web.text(asset(name), content_type=ASSETS[name], headers=dict(HEADERS))

        serve.__name__ = "console" + path.replace("/", "_").replace(".", "_")
        app.page(path, name=serve.__name__)(serve)

    for path, name in routes():
        page(path, name)

    @app.page("/console/layout")
    @guarded(token)
    async def console_layout(web: Any, request: Any) -> Any:
        if not geometry:  # computed once: the district model does not change under a worker
            geometry.update(layout(index))
        return web.json(geometry, headers={"Cache-Control": "no-cache"})
