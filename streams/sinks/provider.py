"""A provider-shaped stub HTTP service: POST a message, get a message id back.

After the last hop of the flow (order → notification → **provider**). It
honours ``Idempotency-Key`` like a real SMS gateway: a repeated key returns the
first message id and is not delivered again. Latency and failure rate are
configurable so the router's retries can be exercised. It stores masked
numbers only.

API (JSON):
  POST /v1/messages  {"to": "+86...", "text": "..."}  header Idempotency-Key
       → 200 {"message_id": "...", "duplicate": false}
       → 400 on a bad request, 503 on an injected failure
  GET  /v1/messages  → {"messages": [{message_id, idempotency_key, to, text, accepted_at}]}
  GET  /v1/stats     → {"accepted": n, "duplicates": n, "injected_failures": n}
  GET  /healthz      → {"ok": true}
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from streams.core.notify import mask_phone

_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_KEY = re.compile(r"^[A-Za-z0-9._:@/\-]{1,128}$")


@dataclass
class ProviderConfig:
    channel: str = "sms"
    latency_ms: float = 0.0
    failure_rate: float = 0.0
    seed: int | None = None
    max_text: int = 2000

    def __post_init__(self) -> None:
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be within [0, 1], got {self.failure_rate}")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, got {self.latency_ms}")


@dataclass
class StubProvider:
    """The provider's state and HTTP handlers."""

    config: ProviderConfig
    messages: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, str] = field(default_factory=dict)
    duplicates: int = 0
    injected_failures: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.config.seed)
        self._lock = asyncio.Lock()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_post("/v1/messages", self.send)
        app.router.add_get("/v1/messages", self.list_messages)
        app.router.add_get("/v1/stats", self.stats)
        app.router.add_get("/healthz", self.health)
        return app

    async def send(self, request: web.Request) -> web.Response:
        if self.config.latency_ms:
            await asyncio.sleep(self.config.latency_ms / 1000)
        key = request.headers.get("Idempotency-Key", "")
        if not _KEY.match(key):
            return _error(400, "Idempotency-Key header missing or malformed")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "body must be a JSON object")
        to, text = body.get("to"), body.get("text")
        if not isinstance(to, str) or not _PHONE.match(to):
            return _error(400, "'to' must be a phone number")
        if not isinstance(text, str) or not text or len(text) > self.config.max_text:
            return _error(400, f"'text' must be 1..{self.config.max_text} characters")
        async with self._lock:
            if key in self.by_key:
                self.duplicates += 1
                return web.json_response({"message_id": self.by_key[key], "duplicate": True})
            if self.config.failure_rate and self._rng.random() < self.config.failure_rate:
                self.injected_failures += 1
                return _error(503, "injected failure: provider temporarily unavailable")
            message_id = f"{self.config.channel}-{uuid.uuid4().hex[:16]}"
            self.by_key[key] = message_id
            self.messages.append(
                {
                    "message_id": message_id,
                    "idempotency_key": key,
                    "to": mask_phone(to),
                    "text": text,
                    "accepted_at": datetime.now(UTC).isoformat(),
                }
            )
        return web.json_response({"message_id": message_id, "duplicate": False})

    async def list_messages(self, request: web.Request) -> web.Response:
        return web.json_response({"messages": self.messages})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "accepted": len(self.messages),
                "duplicates": self.duplicates,
                "injected_failures": self.injected_failures,
            }
        )

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "channel": self.config.channel})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def serve(providers: dict[int, StubProvider], host: str = "127.0.0.1") -> None:
    """Serve each provider on its port until cancelled."""
    runners = []
    try:
        for port, provider in providers.items():
            runner = web.AppRunner(provider.app(), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            runners.append(runner)
        await asyncio.Event().wait()
    finally:
        for runner in runners:
            await runner.cleanup()
