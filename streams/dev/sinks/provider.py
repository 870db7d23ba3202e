"""Provider-shaped stub HTTP services: SMS (send a message) and voice (place a call).

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
       ?after=N: only those after the first N (what a poller has not seen yet), with
       "next": the N to ask with next time
  GET  /v1/stats     → {"accepted": n, "duplicates": n, "injected_failures": n,
                        "lost_responses": n}
  GET  /healthz      → {"ok": true}

Injected failures: a share ``failure_rate`` of sends fail with 503; of those, a
share ``lost_response_rate`` fail *after* the message was accepted (the
provider sent it, the answer got lost), which is what makes idempotency keys
necessary: the retry must get the first message id back, not a second SMS.

The voice stub (:class:`VoiceStub`) simulates an interactive call: the send
answers at once with a call id and status ``ringing``; ``call_ms`` later the
call has ended with an outcome — ``handled``, ``needs_help`` or ``no_answer`` —
drawn with the configured weights (deterministic per idempotency key and seed).

  POST /v1/calls      {"to": "+86...", "text": "script"}  header Idempotency-Key
        → 200 {"call_id": "...", "status": "ringing", "duplicate": false}
  GET  /v1/calls/{id} → {"call_id", "status": "ringing" | "completed", "outcome"}
  GET  /v1/calls      → {"calls": [...]} (``?after=N`` as for messages);  GET /v1/stats,
                        GET /healthz as above

With ``answered_by="callee"`` the outcome is not drawn: the person called
answers while the call rings (``call_ms``), as a handset would,
``POST /v1/calls/{id}/answer {"outcome": "handled" | "needs_help"}``; a call
nobody answers ends ``no_answer`` when it stops ringing. A simulated district
day's parties concerned answer this way (:mod:`streams.tools.day.people`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from streams.core.notifications.plan import mask_phone

log = logging.getLogger("yujing.sinks")

_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_KEY = re.compile(r"^[A-Za-z0-9._:@/\-]{1,128}$")


@dataclass
class ProviderConfig:
    channel: str = "sms"
    latency_ms: float = 0.0
    failure_rate: float = 0.0
    lost_response_rate: float = 0.5
    seed: int | None = None
    max_text: int = 2000
    #: voice only: how long a call takes, and how calls end (weights, need not sum to 1)
    call_ms: float = 300.0
    outcomes: dict[str, float] = field(
        default_factory=lambda: {"handled": 0.7, "needs_help": 0.2, "no_answer": 0.1}
    )
    #: voice only: "stub" draws each call's outcome from ``outcomes``; "callee": the person
    #: called answers (``POST /v1/calls/{id}/answer``), else no answer when it stops ringing
    answered_by: str = "stub"

    def __post_init__(self) -> None:
        for name in ("failure_rate", "lost_response_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        unknown = set(self.outcomes) - {"handled", "needs_help", "no_answer"}
        if unknown or not self.outcomes or any(w < 0 for w in self.outcomes.values()):
            raise ValueError(
                f"outcomes: weights for handled/needs_help/no_answer, got {self.outcomes}"
            )
        if not sum(self.outcomes.values()) > 0:
            raise ValueError("outcomes: at least one weight must be > 0")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, got {self.latency_ms}")
        if self.answered_by not in ("stub", "callee"):
            raise ValueError(f"answered_by must be 'stub' or 'callee', got {self.answered_by!r}")


@dataclass
class StubProvider:
    """The provider's state and HTTP handlers."""

    config: ProviderConfig
    messages: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, str] = field(default_factory=dict)
    duplicates: int = 0
    injected_failures: int = 0
    lost_responses: int = 0

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

    async def _accept(self, request: web.Request) -> tuple[str, str, str] | web.Response:
        """Validate a send: (key, to, text), or the error response."""
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
        return key, to, text

    def _fail(self) -> tuple[bool, bool]:
        """(fail before accepting, lose the answer after accepting)."""
        if not self.config.failure_rate or self._rng.random() >= self.config.failure_rate:
            return False, False
        self.injected_failures += 1
        after = self._rng.random() < self.config.lost_response_rate
        return not after, after

    async def send(self, request: web.Request) -> web.Response:
        """Accept once per idempotency key; inject failures before or after accepting."""
        checked = await self._accept(request)
        if isinstance(checked, web.Response):
            return checked
        key, to, text = checked
        async with self._lock:
            if key in self.by_key:
                self.duplicates += 1
                return web.json_response(self._answer(self.by_key[key], duplicate=True))
            before, lost = self._fail()
            if before:
                return _error(503, f"injected failure: {self.unavailable}")
            item_id = self._record(key, mask_phone(to), text)
            self.by_key[key] = item_id
            log.info("%s to %s: %s", self.config.channel, mask_phone(to), text)
            if lost:
                self.lost_responses += 1
                return _error(503, "injected failure: accepted, but the answer was lost")
        return web.json_response(self._answer(item_id, duplicate=False))

    #: what an injected failure before accepting says
    unavailable = "provider temporarily unavailable"

    def _record(self, key: str, masked_to: str, text: str) -> str:
        """Store an accepted message; return its id."""
        message_id = f"{self.config.channel}-{uuid.uuid4().hex[:16]}"
        self.messages.append(
            {
                "message_id": message_id,
                "idempotency_key": key,
                "to": masked_to,
                "text": text,
                "accepted_at": datetime.now(UTC).isoformat(),
            }
        )
        return message_id

    def _answer(self, item_id: str, duplicate: bool) -> dict[str, Any]:
        return {"message_id": item_id, "duplicate": duplicate}

    async def list_messages(self, request: web.Request) -> web.Response:
        after = _after(request)
        if isinstance(after, web.Response):
            return after
        return web.json_response({"messages": self.messages[after:], "next": len(self.messages)})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "accepted": len(self.messages),
                "duplicates": self.duplicates,
                "injected_failures": self.injected_failures,
                "lost_responses": self.lost_responses,
            }
        )

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "channel": self.config.channel})


@dataclass
class VoiceStub(StubProvider):
    """A voice provider: a call is placed at once and ends ``call_ms`` later with an outcome."""

    calls: dict[str, dict[str, Any]] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_post("/v1/calls", self.send)
        app.router.add_get("/v1/calls", self.list_calls)
        app.router.add_get("/v1/calls/{call_id}", self.get_call)
        app.router.add_post("/v1/calls/{call_id}/answer", self.answer)
        app.router.add_get("/v1/messages", self.list_messages)
        app.router.add_get("/v1/stats", self.stats)
        app.router.add_get("/healthz", self.health)
        return app

    def _outcome(self, key: str) -> str:
        """Deterministic per key and seed, weighted as configured."""
        digest = hashlib.sha256(f"{self.config.seed}:{key}".encode()).digest()
        x = int.from_bytes(digest[:8], "big") / 2**64 * sum(self.config.outcomes.values())
        for name, weight in self.config.outcomes.items():
            if x < weight:
                return name
            x -= weight
        return next(iter(self.config.outcomes))

    unavailable = "no line available"

    def _record(self, key: str, masked_to: str, text: str) -> str:
        call_id = f"call-{uuid.uuid4().hex[:16]}"
        callee = self.config.answered_by == "callee"
        self.calls[call_id] = {
            "call_id": call_id,
            "idempotency_key": key,
            "to": masked_to,
            "script": text,
            "ends_at": time.monotonic() + self.config.call_ms / 1000,
            "outcome": "no_answer" if callee else self._outcome(key),
        }
        self.messages.append(
            {"message_id": call_id, "idempotency_key": key, "to": masked_to, "text": text}
        )
        return call_id

    def _answer(self, item_id: str, duplicate: bool) -> dict[str, Any]:
        status = self._status(item_id) if duplicate else "ringing"
        return {"call_id": item_id, "status": status, "duplicate": duplicate}

    def _status(self, call_id: str) -> str:
        return "completed" if time.monotonic() >= self.calls[call_id]["ends_at"] else "ringing"

    async def get_call(self, request: web.Request) -> web.Response:
        call_id = request.match_info["call_id"]
        call = self.calls.get(call_id)
        if call is None:
            return _error(404, f"no call {call_id}")
        status = self._status(call_id)
        return web.json_response(
            {
                "call_id": call_id,
                "status": status,
                "outcome": call["outcome"] if status == "completed" else None,
            }
        )

    async def list_calls(self, request: web.Request) -> web.Response:
        after = _after(request)
        if isinstance(after, web.Response):
            return after
        calls = [
            {k: v for k, v in c.items() if k != "ends_at"} | {"status": self._status(cid)}
            for cid, c in list(self.calls.items())[after:]
        ]
        return web.json_response({"calls": calls, "next": len(self.calls)})

    async def answer(self, request: web.Request) -> web.Response:
        """The person called answers a ringing call (``answered_by="callee"``)."""
        call = self.calls.get(request.match_info["call_id"])
        if call is None:
            return _error(404, f"no call {request.match_info['call_id']}")
        if self.config.answered_by != "callee":
            return _error(409, "this stub draws its calls' outcomes; nobody answers them")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "body is not JSON")
        outcome = body.get("outcome") if isinstance(body, dict) else None
        if outcome not in ("handled", "needs_help"):
            return _error(400, "'outcome' must be 'handled' or 'needs_help'")
        if self._status(call["call_id"]) == "completed":
            return _error(409, "the call has ended")
        call["outcome"] = outcome
        call["ends_at"] = time.monotonic()  # answered: the call ends with this outcome
        return web.json_response({"call_id": call["call_id"], "outcome": outcome})


def _after(request: web.Request) -> int | web.Response:
    """The ``after`` query parameter: how many items the caller has already seen."""
    raw = request.query.get("after", "0")
    if not raw.isdigit():
        return _error(400, "'after' must be a whole number")
    return int(raw)


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
