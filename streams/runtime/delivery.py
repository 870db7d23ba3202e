"""Delivery of notification requests to a provider over HTTP, with retries.

The last hop of the flow (order → notification → **provider**). Each request
carries its idempotency key, so a retry, or a redelivery after a worker
restart, never makes the provider send the same message twice. Only masked
phone numbers are logged.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from schemas import NotificationRequest
from streams.core.notifications.plan import mask_phone
from streams.core.notifications.receipts import Outcome
from streams.core.notifications.retry import Backoff

log = logging.getLogger(__name__)


class HttpProvider:
    """Client of a provider-shaped HTTP API (see :mod:`streams.dev.sinks.provider`)."""

    path = "/v1/messages"
    id_field = "message_id"

    def __init__(self, base_url: str, backoff: Backoff, timeout_s: float = 5.0) -> None:
        self._base = base_url.rstrip("/")
        self._url = self._base + self.path
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
                    if resp.status == 200 and isinstance(body, dict) and body.get(self.id_field):
                        log.info(
                            "delivered %s via %s to %s (attempt %d)",
                            req.notification_id,
                            req.channel.value,
                            mask_phone(req.recipient),
                            attempt,
                        )
                        return await self.finish(
                            Outcome(True, attempt, str(body[self.id_field]), "")
                        )
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

    async def finish(self, outcome: Outcome) -> Outcome:
        """What happens after the provider accepted: nothing more for SMS."""
        return outcome


class VoiceProvider(HttpProvider):
    """Client of the voice API: place the call, then poll it until it has ended.

    A redelivered request re-sends the same idempotency key, gets the same call
    id back and polls that call: the party is never called twice.
    """

    path = "/v1/calls"
    id_field = "call_id"
    poll_s = 0.05

    async def finish(self, outcome: Outcome) -> Outcome:
        deadline = time.monotonic() + (self._timeout.total or 30.0)
        url = f"{self._base}{self.path}/{outcome.message_id}"
        while time.monotonic() < deadline:
            try:
                session = await self._client()
                async with session.get(url) as resp:
                    body = await resp.json(content_type=None)
                if isinstance(body, dict) and body.get("status") == "completed":
                    return Outcome(True, outcome.attempts, outcome.message_id, "", body["outcome"])
            except (TimeoutError, aiohttp.ClientError, ValueError) as err:
                log.warning("polling call %s: %s", outcome.message_id, err)
            await asyncio.sleep(self.poll_s)
        return Outcome(
            True, outcome.attempts, outcome.message_id, "call still ringing at timeout", "no_answer"
        )
