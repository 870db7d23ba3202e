"""HttpProvider against a real stub provider on a localhost port: retries, idempotency."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from schemas import Channel, NotificationRequest
from streams.core.notifications.retry import Backoff
from streams.dev.sinks.provider import ProviderConfig, StubProvider, VoiceStub
from streams.runtime.delivery import HttpProvider, Outcome, VoiceProvider

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
FAST = Backoff(base_s=0.001, factor=2.0, max_s=0.005, max_attempts=10)


def request(i: int = 0, message: str = "gas at restaurant-7") -> NotificationRequest:
    return NotificationRequest(
        event_time=T0,
        notification_id=f"ntf-{i}",
        idempotency_key=f"ntf-{i}",
        order_id="order-1",
        alert_id="alert-1",
        channel=Channel.SMS,
        receiver="duty",
        recipient="+8613800000002",
        purpose="dispatch",
        message=message,
    )


Scenario = Callable[[HttpProvider], Awaitable[Any]]


def serve_and_run(
    config: ProviderConfig,
    scenario: Scenario,
    backoff: Backoff = FAST,
    *,
    voice: bool = False,
    timeout_s: float = 5.0,
) -> tuple[StubProvider, Any]:
    """Serve a stub on a free localhost port and run ``scenario`` with a client of it."""

    async def main() -> tuple[StubProvider, Any]:
        provider = (VoiceStub if voice else StubProvider)(config)
        runner = web.AppRunner(provider.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        client = (VoiceProvider if voice else HttpProvider)(
            f"http://{host}:{port}/", backoff, timeout_s=timeout_s
        )
        try:
            result = await scenario(client)
        finally:
            await client.close()
            await runner.cleanup()
        return provider, result

    return asyncio.run(main())


def test_every_request_is_delivered_despite_failures_and_recorded_once() -> None:
    requests = [request(i) for i in range(25)]

    async def scenario(client: HttpProvider) -> list[Outcome]:
        return [await client.deliver(r) for r in requests]

    provider, outcomes = serve_and_run(ProviderConfig(failure_rate=0.5, seed=3), scenario)

    assert all(o.delivered for o in outcomes), outcomes
    assert all(1 <= o.attempts <= FAST.max_attempts for o in outcomes)
    assert any(o.attempts > 1 for o in outcomes)  # the failures really happened
    keys = [m["idempotency_key"] for m in provider.messages]
    assert sorted(keys) == sorted(r.idempotency_key for r in requests)
    assert len(set(keys)) == len(keys)
    assert {o.message_id for o in outcomes} == {m["message_id"] for m in provider.messages}
    # Every attempt was either the accepted one or an injected failure.
    assert provider.injected_failures == sum(o.attempts for o in outcomes) - len(requests)
    # Some failures happened after the provider accepted (the answer was lost): exactly
    # those retries were answered as duplicates, with the first message id, and not re-sent.
    assert provider.lost_responses > 0
    assert provider.duplicates == provider.lost_responses


def test_concurrent_deliveries_with_failures_are_each_recorded_once() -> None:
    requests = [request(i) for i in range(20)]

    async def scenario(client: HttpProvider) -> list[Outcome]:
        return list(await asyncio.gather(*(client.deliver(r) for r in requests)))

    provider, outcomes = serve_and_run(ProviderConfig(failure_rate=0.5, seed=8), scenario)
    assert all(o.delivered for o in outcomes)
    assert sorted(m["idempotency_key"] for m in provider.messages) == sorted(
        r.idempotency_key for r in requests
    )


def test_a_redelivery_after_a_restart_is_not_sent_twice() -> None:
    async def scenario(client: HttpProvider) -> tuple[Outcome, Outcome]:
        first = await client.deliver(request(7))
        await client.close()  # as if the worker restarted with a new session
        second = await client.deliver(request(7))
        return first, second

    provider, (first, second) = serve_and_run(ProviderConfig(), scenario)
    assert first.delivered and second.delivered
    assert first.message_id == second.message_id
    assert (first.attempts, second.attempts) == (1, 1)
    assert len(provider.messages) == 1
    assert provider.duplicates == 1


def test_a_client_error_is_final() -> None:
    async def scenario(client: HttpProvider) -> Outcome:
        return await client.deliver(request(1, message="x" * 50))

    provider, outcome = serve_and_run(ProviderConfig(max_text=10), scenario)
    assert outcome.delivered is False
    assert outcome.attempts == 1
    assert outcome.message_id is None
    assert outcome.detail.startswith("HTTP 400")
    assert "'text'" in outcome.detail
    assert provider.messages == []


def test_a_provider_that_always_fails_gives_up_after_max_attempts() -> None:
    backoff = Backoff(base_s=0.001, factor=2.0, max_s=0.002, max_attempts=4)

    async def scenario(client: HttpProvider) -> Outcome:
        return await client.deliver(request(2))

    provider, outcome = serve_and_run(
        ProviderConfig(failure_rate=1.0, lost_response_rate=0.0), scenario, backoff
    )
    assert outcome.delivered is False
    assert outcome.attempts == 4
    assert outcome.message_id is None
    assert outcome.detail.startswith("HTTP 503")
    assert provider.injected_failures == 4
    assert provider.messages == []


def test_a_lost_answer_is_retried_and_the_message_is_sent_once() -> None:
    async def scenario(client: HttpProvider) -> Outcome:
        return await client.deliver(request(5))

    # Every first try is accepted but its answer is lost; the retry is a duplicate.
    provider, outcome = serve_and_run(
        ProviderConfig(failure_rate=1.0, lost_response_rate=1.0), scenario
    )
    [sent] = provider.messages
    assert outcome == Outcome(True, 2, sent["message_id"], "")
    assert sent["idempotency_key"] == "ntf-5"
    assert (provider.injected_failures, provider.lost_responses, provider.duplicates) == (1, 1, 1)


def test_a_voice_call_is_placed_once_and_its_outcome_comes_back() -> None:
    async def scenario(client: HttpProvider) -> Outcome:
        return await client.deliver(request(6))

    provider, outcome = serve_and_run(
        ProviderConfig(
            failure_rate=1.0, lost_response_rate=1.0, call_ms=50, outcomes={"handled": 1}
        ),
        scenario,
        voice=True,
    )
    assert isinstance(provider, VoiceStub)
    [placed] = provider.calls.values()
    assert outcome == Outcome(True, 2, placed["call_id"], "", "handled")
    assert provider.duplicates == 1  # the retry after the lost answer got the same call


def test_a_voice_call_is_polled_without_a_request_timeout() -> None:
    # aiohttp reads a total timeout of 0 as "no timeout"; the call must still be polled.
    async def scenario(client: HttpProvider) -> Outcome:
        return await client.deliver(request(8))

    provider, outcome = serve_and_run(
        ProviderConfig(call_ms=50, outcomes={"handled": 1}), scenario, voice=True, timeout_s=0
    )
    [placed] = provider.calls.values()
    assert outcome == Outcome(True, 1, placed["call_id"], "", "handled")


def test_an_unreachable_provider_gives_up_after_max_attempts() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on ``port`` any more.
    backoff = Backoff(base_s=0.001, factor=2.0, max_s=0.002, max_attempts=3)

    async def main() -> Outcome:
        client = HttpProvider(f"http://127.0.0.1:{port}", backoff, timeout_s=2.0)
        try:
            return await client.deliver(request(3))
        finally:
            await client.close()

    outcome = asyncio.run(main())
    assert outcome.delivered is False
    assert outcome.attempts == 3
    assert "Connect" in outcome.detail


def test_too_many_requests_and_non_json_errors_are_retried() -> None:
    answers = [
        web.json_response({"error": "slow down"}, status=429),
        web.Response(status=502, text="<html>bad gateway</html>", content_type="text/html"),
        web.json_response({"message_id": "sms-ok"}),
    ]
    seen: list[str | None] = []

    async def handler(req: web.Request) -> web.Response:
        seen.append(req.headers.get("Idempotency-Key"))
        return answers[len(seen) - 1]

    async def main() -> Outcome:
        app = web.Application()
        app.router.add_post("/v1/messages", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        client = HttpProvider(f"http://{host}:{port}", FAST)
        try:
            return await client.deliver(request(4))
        finally:
            await client.close()
            await runner.cleanup()

    outcome = asyncio.run(main())
    assert outcome == Outcome(True, 3, "sms-ok", "")
    assert seen == ["ntf-4"] * 3
