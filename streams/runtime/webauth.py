"""Bearer tokens on the worker's web pages: who may read the risk map and the metrics.

Where this sits: beside the flow, in front of the pages the worker's web server
serves (:mod:`streams.runtime.web`, :mod:`streams.runtime.sensor`). When
``YUJING_WEB_TOKEN`` is set, the risk map (``/map``, ``/map/{scope}/alerts``,
``/alerts/{alert_id}``), ``/orders`` and the console's ``/console/layout`` answer
only a request with ``Authorization: Bearer <token>`` (the console's page, script
and style hold no data: they stay open, :mod:`streams.runtime.console`);
when ``YUJING_METRICS_TOKEN`` is set, so does ``/metrics``, with its own token (the
one Prometheus scrapes with). Anything else gets 401, ``WWW-Authenticate: Bearer``
and a short JSON error. ``/ready`` stays open: probes call it and it holds no data.
Unset tokens leave the pages open (a worker on localhost, a test).

:func:`guarded` wraps a page handler (a new page is guarded the same way);
:func:`bearer` is the header the clients in this repository send (``yujing map``,
the benchmarks, the test stacks), from the same settings.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Annotated, Any

from pydantic import AfterValidator, SecretStr

Handler = Callable[..., Awaitable[Any]]

MIN_LENGTH = 16
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")  # what an HTTP header carries unchanged
UNAUTHORIZED = {"error": "unauthorized: send Authorization: Bearer <token>"}


def _check(token: SecretStr) -> SecretStr:
    value = token.get_secret_value()
    if len(value) < MIN_LENGTH:
        raise ValueError(
            f"too short: a token needs at least {MIN_LENGTH} characters "
            "(e.g. `openssl rand -hex 32`)"
        )
    if not _VISIBLE_ASCII.fullmatch(value):
        raise ValueError("a token is visible ASCII without spaces (it is sent in a header)")
    return token


#: A token setting: at least 16 visible ASCII characters; never printed.
Token = Annotated[SecretStr, AfterValidator(_check)]


def authorized(header: str | None, token: SecretStr) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (compared in constant time).

    >>> t = SecretStr("s3cret-token-0123")
    >>> authorized("Bearer s3cret-token-0123", t), authorized("bearer s3cret-token-0123", t)
    (True, True)
    >>> authorized("Bearer s3cret-token-9999", t), authorized("Basic s3cret-token-0123", t)
    (False, False)
    >>> authorized(None, t), authorized("Bearer ", t), authorized("Bearer s3crét", t)
    (False, False, False)
    """
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    expected = token.get_secret_value().encode()
    return hmac.compare_digest(given.strip().encode("utf-8", "replace"), expected)


def guarded(token: SecretStr | None) -> Callable[[Handler], Handler]:
    """Make a page handler answer 401 unless the request carries ``token``; a handler
    stays as it is when ``token`` is None. Under Faust's page decorator::

        @app.page("/console")
        @guarded(settings.web_token)
        async def console(web, request): ...
    """

    def wrap(handler: Handler) -> Handler:
        if token is None:
            return handler

        @wraps(handler)
        async def page(view: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            if not authorized(request.headers.get("Authorization"), token):
                challenge = {"WWW-Authenticate": "Bearer"}
                return view.json(UNAUTHORIZED, status=401, headers=challenge)
            return await handler(view, request, *args, **kwargs)

        return page

    return wrap


def bearer(token: SecretStr | None) -> dict[str, str]:
    """The headers a client sends for ``token``: none when it is None.

    >>> bearer(SecretStr("s3cret-token-0123"))
    {'Authorization': 'Bearer s3cret-token-0123'}
    >>> bearer(None)
    {}
    """
    return {} if token is None else {"Authorization": f"Bearer {token.get_secret_value()}"}
