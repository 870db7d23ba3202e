"""``yujing map`` (streams.tools.map): asking several workers and merging, no broker.

The workers here are small HTTP servers answering canned ``/map`` JSON; the
real two-worker case is in test_rebalance.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from streams.dev.broker import find_free_port
from streams.tools.map import MapError, fetch


def worker(pages: dict[str, Any]) -> tuple[str, ThreadingHTTPServer]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            data = json.dumps(body if body is not None else {"error": "unknown"}).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def scopes(level: str, ids: list[str]) -> dict[str, Any]:
    return {"town:t": {"kind": "town", "level": level, "open_alerts": len(ids), "alert_ids": ids}}


@pytest.fixture
def two_workers() -> Iterator[list[str]]:
    a, sa = worker(
        {
            "/map?ids=1": {"partitions": [0], "watermarks": {}, "scopes": scopes("low", ["x"])},
            "/map/town:t/alerts": {
                "partitions": [0],
                "kind": "town",
                "alerts": [{"alert_id": "x", "version": 1, "level": "low", "kind": "single"}],
            },
        }
    )
    b, sb = worker(
        {"/map?ids=1": {"partitions": [1], "watermarks": {}, "scopes": scopes("high", ["x", "y"])}}
    )
    yield [a, b]
    sa.shutdown()
    sb.shutdown()


def test_the_map_of_two_workers_is_merged(two_workers: list[str]) -> None:
    merged = fetch(two_workers)
    assert merged["partitions"] == [0, 1]
    assert merged["scopes"]["town:t"] == {"kind": "town", "level": "high", "open_alerts": 2}


def test_a_scope_unknown_to_one_worker_is_answered_by_the_other(two_workers: list[str]) -> None:
    merged = fetch(two_workers, "town:t")
    assert [a["alert_id"] for a in merged["alerts"]] == ["x"] and merged["partitions"] == [0]
    with pytest.raises(MapError, match="no worker knows the scope 'town:nowhere'"):
        fetch(two_workers, "town:nowhere")


def test_a_worker_that_does_not_answer_is_an_error_naming_it(two_workers: list[str]) -> None:
    down = f"http://127.0.0.1:{find_free_port()}"
    with pytest.raises(MapError, match=f"worker not reachable at {down}"):
        fetch([*two_workers, down], timeout=2)
