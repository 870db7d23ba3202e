"""``yujing map``: one risk map from every worker.

(compound / systemic alert → **map**, for operators.) Each worker answers
``/map`` and ``/map/{scope}/alerts`` for the partitions it holds; with more
than one worker the picture is split. This asks every worker named and merges
the answers (``streams.core.alerts.riskmap.merge_maps`` / ``merge_scope_alerts``):
levels by maximum, open alerts as a union of ids.

    yujing map [SCOPE] [--worker URL ...]

Without ``--worker`` it asks ``http://127.0.0.1:$YUJING_WEB_PORT``. A worker
that does not answer is an error naming it: a map missing a worker's
partitions would look calmer than the city is. With ``YUJING_WEB_TOKEN`` set it is
sent as a bearer token (the workers' map pages then need it).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from typing import Any

from pydantic import SecretStr

from streams.core.alerts.riskmap import merge_maps, merge_scope_alerts
from streams.dev.runner import get_json
from streams.runtime.webauth import bearer

Json = dict[str, Any]


class MapError(Exception):
    """A worker did not give its part of the map."""


def default_workers(given: list[str], web_port: int) -> list[str]:
    """The workers named (base URLs, no trailing slash), else this host's worker."""
    return [w.rstrip("/") for w in given] or [f"http://127.0.0.1:{web_port}"]


def judge(
    base: str, url: str, status: int, body: Any, token: SecretStr | None, missing_ok: bool = False
) -> Json | None:
    """A worker's answer to ``url``: its JSON object, None for a 404 when ``missing_ok``
    (a place or an alert this worker does not hold); anything else a :class:`MapError`
    naming the worker."""
    if missing_ok and status == 404:
        return None
    if status == 401:
        which = "a different" if token is not None else "a"
        raise MapError(f"worker {base} wants {which} YUJING_WEB_TOKEN (answered 401)")
    if status != 200 or not isinstance(body, dict):
        raise MapError(f"worker {base} answered {status} for {url}")
    return body


def unreachable(base: str, err: BaseException) -> MapError:
    """The error for a worker that did not answer (``err``: why)."""
    why = getattr(err, "reason", None) or str(err) or type(err).__name__
    return MapError(f"worker not reachable at {base} ({why})")


def fetch(
    workers: list[str],
    scope: str | None = None,
    timeout: float = 5.0,
    token: SecretStr | None = None,
) -> Json:
    """The merged ``/map`` (or ``/map/{scope}/alerts``) of ``workers`` (base URLs),
    asked with ``token`` (the workers' ``YUJING_WEB_TOKEN``) when there is one."""
    answers = []
    headers = bearer(token)
    for base in workers:
        base = base.rstrip("/")
        if scope is None:
            url = f"{base}/map?ids=1"
        else:
            url = f"{base}/map/{urllib.parse.quote(scope, safe=':')}/alerts"
        try:
            status, body = get_json(url, timeout=timeout, headers=headers)
        except OSError as err:
            raise unreachable(base, err) from None
        answer = judge(base, url, status, body, token, missing_ok=scope is not None)
        if answer is not None:
            answers.append(answer)
    if scope is None:
        return merge_maps(answers)
    if not answers:
        raise MapError(f"no worker knows the scope {scope!r}")
    return merge_scope_alerts(scope, answers)


def add_map_command(sub: Any) -> None:
    p = sub.add_parser(
        "map",
        help="one risk map from every worker: levels per scope, or one scope's open alerts",
        description=(__doc__ or "").split("\n\n")[1],
    )
    p.add_argument("scope", nargs="?", default=None, help="a scope: its open alerts")
    p.add_argument(
        "--worker",
        action="append",
        default=[],
        help="a worker's web address, e.g. http://127.0.0.1:6066 (repeat for each worker)",
    )
    p.set_defaults(func=_map)


def _map(args: argparse.Namespace) -> int:
    from streams.runtime.settings import Settings

    settings = Settings.from_env()
    workers = default_workers(args.worker, settings.web_port)
    try:
        merged = fetch(workers, args.scope, token=settings.web_token)
    except MapError as err:
        print(f"yujing map: {err}", file=sys.stderr)
        return 2
    print(json.dumps(merged, indent=2, ensure_ascii=False))
    return 0
