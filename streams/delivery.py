"""Delivery of notification requests to a provider over HTTP, with retries.

The last hop of the flow (order → notification → **provider**). Each request
carries its idempotency key, so a retry, or a redelivery after a worker
restart, never makes the provider send the same message twice. Only masked
phone numbers are logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp

from schemas import NotificationRequest
from streams.core.notify import mask_phone
from streams.core.retry import Backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    attempts: int
    message_id: str | None
    detail: str


class HttpProvider:
    """Client of a provider-shaped HTTP API (see :mod:`streams.sinks.provider`)."""

    def __init__(self, base_url: str, backoff: Backoff, timeout_s: float = 5.0) -> None:
        self._url = base_url.rstrip("/") + "/v1/messages"
        self._backoff = backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def deliver(self, req: NotificationRequest) -> Outcome:
        """Try up to ``max_attempts`` times; 4xx other than 429 is final."""
        detail = ""
        for attempt in range(1, self._backoff.max_attempts + 1):
            await asyncio.sleep(self._backoff.delay(attempt))
            try:
                session = await self._client()
                async with session.post(
                    self._url,
                    json={"to": req.recipient, "text": req.message},
                    headers={"Idempotency-Key": req.idempotency_key},
                ) as resp:
                    body = await resp.json(content_type=None)
                    if resp.status == 200 and isinstance(body, dict) and body.get("message_id"):
                        log.info(
                            "delivered %s via %s to %s (attempt %d)",
                            req.notification_id,
                            req.channel.value,
                            mask_phone(req.recipient),
                            attempt,
                        )
                        return Outcome(True, attempt, str(body["message_id"]), "")
                    error = body.get("error") if isinstance(body, dict) else body
                    detail = f"HTTP {resp.status}: {error}"
                    if 400 <= resp.status < 500 and resp.status != 429:
                        return Outcome(False, attempt, None, detail)
            except (TimeoutError, aiohttp.ClientError, ValueError) as err:
                detail = f"{type(err).__name__}: {err}"
            log.warning(
                "delivery of %s to %s failed (attempt %d/%d): %s",
                req.notification_id,
                mask_phone(req.recipient),
                attempt,
                self._backoff.max_attempts,
                detail,
            )
        return Outcome(False, self._backoff.max_attempts, None, detail)
