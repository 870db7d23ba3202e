"""The HTTP stages against a real stub provider on a localhost port: retries, idempotency, calls."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from schemas import Channel, NotificationReceipt, NotificationRequest, PendingCall
from streams.core.notifications.calls import CallSchedule, Wait
from streams.core.notifications.receipts import SettleCall, Settled, SettleRequest
from streams.core.notifications.retry import Backoff, Retry
from streams.core.notifications.stages import Context, Outcome, Sent, chain
from streams.dev.sinks.provider import ProviderConfig, StubProvider, VoiceStub
from streams.runtime.delivery import CallCheck, Http, HttpSend

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
#: the one receiver the requests here name, and its number (looked up as a message is sent)
PHONES = {"duty": "+8613800000002"}
FAST = Backoff(base_s=0.001, factor=2.0, max_s=0.005, max_attempts=10)
CTX = Context(partition=0)


def request(
    i: int = 0, message: str = "gas at restaurant-7", voice: bool = False
) -> NotificationRequest:
    return NotificationRequest(
        event_time=T0,
        notification_id=f"ntf-{i}",
        idempotency_key=f"ntf-{i}",
        order_id="order-1",
        alert_id="alert-1",
        channel=Channel.VOICE if voice else Channel.SMS,
        receiver="duty",
        purpose="voice_call" if voice else "dispatch",
        message=message,
    )


Scenario = Callable[[Http], Awaitable[Any]]


def serve_and_run(
    config: ProviderConfig, scenario: Scenario, *, voice: bool = False, timeout_s: float = 5.0
) -> tuple[StubProvider, Any]:
    """Serve a stub on a free localhost port and run ``scenario`` with a client of it."""

    async def main() -> tuple[StubProvider, Any]:
        provider = (VoiceStub if voice else StubProvider)(config)
        runner = web.AppRunner(provider.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        http = Http(f"http://{host}:{port}/", timeout_s=timeout_s)
        try:
            result = await scenario(http)
        finally:
            await http.close()
            await runner.cleanup()
        return provider, result

    return asyncio.run(main())


async def send(http: Http, req: NotificationRequest, backoff: Backoff = FAST) -> Outcome:
    """One notification through retry(send); the outcome it came to."""
    stage = (
        HttpSend(http, PHONES.__getitem__, "/v1/calls", "call_id")
        if req.channel is Channel.VOICE
        else HttpSend(http, PHONES.__getitem__)
    )
    sent = await Retry(stage, backoff).exec(CTX, req)
    assert sent is not None
    return sent.outcome


def test_every_request_is_delivered_despite_failures_and_recorded_once() -> None:
    requests = [request(i) for i in range(25)]

    async def scenario(http: Http) -> list[Outcome]:
        return [await send(http, r) for r in requests]

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

    async def scenario(http: Http) -> list[Outcome]:
        return list(await asyncio.gather(*(send(http, r) for r in requests)))

    provider, outcomes = serve_and_run(ProviderConfig(failure_rate=0.5, seed=8), scenario)
    assert all(o.delivered for o in outcomes)
    assert sorted(m["idempotency_key"] for m in provider.messages) == sorted(
        r.idempotency_key for r in requests
    )


def test_a_redelivery_after_a_restart_is_not_sent_twice() -> None:
    async def scenario(http: Http) -> tuple[Outcome, Outcome]:
        first = await send(http, request(7))
        await http.close()  # as if the worker restarted with a new session
        second = await send(http, request(7))
        return first, second

    provider, (first, second) = serve_and_run(ProviderConfig(), scenario)
    assert first.delivered and second.delivered
    assert first.message_id == second.message_id
    assert (first.attempts, second.attempts) == (1, 1)
    assert len(provider.messages) == 1
    assert provider.duplicates == 1


def test_a_client_error_is_final() -> None:
    async def scenario(http: Http) -> Outcome:
        return await send(http, request(1, message="x" * 50))

    provider, outcome = serve_and_run(ProviderConfig(max_text=10), scenario)
    assert outcome.delivered is False
    assert outcome.attempts == 1
    assert outcome.message_id is None
    assert outcome.detail.startswith("HTTP 400")
    assert "'text'" in outcome.detail
    assert provider.messages == []


def test_a_provider_that_always_fails_gives_up_after_max_attempts() -> None:
    backoff = Backoff(base_s=0.001, factor=2.0, max_s=0.002, max_attempts=4)

    async def scenario(http: Http) -> Outcome:
        return await send(http, request(2), backoff)

    provider, outcome = serve_and_run(
        ProviderConfig(failure_rate=1.0, lost_response_rate=0.0), scenario
    )
    assert outcome.delivered is False
    assert outcome.attempts == 4
    assert outcome.message_id is None
    assert outcome.detail.startswith("HTTP 503")
    assert provider.injected_failures == 4
    assert provider.messages == []


def test_a_lost_answer_is_retried_and_the_message_is_sent_once() -> None:
    async def scenario(http: Http) -> Outcome:
        return await send(http, request(5))

    # Every first try is accepted but its answer is lost; the retry is a duplicate.
    provider, outcome = serve_and_run(
        ProviderConfig(failure_rate=1.0, lost_response_rate=1.0), scenario
    )
    [sent] = provider.messages
    assert outcome == Outcome(True, 2, sent["message_id"], "")
    assert sent["idempotency_key"] == "ntf-5"
    assert (provider.injected_failures, provider.lost_responses, provider.duplicates) == (1, 1, 1)


async def place_and_follow(
    http: Http, req: NotificationRequest, schedule: CallSchedule
) -> tuple[float, PendingCall, list[Settled]]:
    """Place a call (timed), then follow it the way ``follow_calls`` does, with real time."""
    started = time.monotonic()
    placed = await Retry(HttpSend(http, PHONES.__getitem__, "/v1/calls", "call_id"), FAST).exec(
        CTX, req
    )
    assert placed is not None
    settled = await SettleRequest(schedule).exec(CTX, placed)
    placing_s = time.monotonic() - started
    [call] = settled.outputs
    assert isinstance(call, PendingCall)
    follow = chain(
        Wait(schedule.longest_wait_s),
        Retry(CallCheck(http), Backoff(max_attempts=1)),
        SettleCall(schedule),
    )
    steps: list[Settled] = []
    pending: PendingCall | None = call
    while pending is not None:
        step = await follow.exec(CTX, pending)
        assert step is not None
        steps.append(step)
        pending = next((o for o in step.outputs if isinstance(o, PendingCall)), None)
    return placing_s, call, steps


def test_placing_a_call_returns_at_once_and_a_check_learns_its_outcome() -> None:
    schedule = CallSchedule(checks=Backoff(base_s=0.02, factor=2.0, max_s=0.1), timeout_s=5.0)

    async def scenario(http: Http) -> tuple[float, PendingCall, list[Settled]]:
        return await place_and_follow(http, request(6, voice=True), schedule)

    provider, (placing_s, call, steps) = serve_and_run(
        ProviderConfig(
            failure_rate=1.0, lost_response_rate=1.0, call_ms=400, outcomes={"handled": 1}
        ),
        scenario,
        voice=True,
    )
    assert isinstance(provider, VoiceStub)
    [placed] = provider.calls.values()
    assert placing_s < 0.4, "placing waited for the call to end"
    assert (call.call_id, call.attempts, call.checks) == (placed["call_id"], 2, 0)
    assert provider.duplicates == 1  # the retry after the lost answer got the same call
    # ringing checks park it again, each a little later; the last one ends it
    assert len(steps) >= 2
    assert all(isinstance(s.outputs[0], PendingCall) for s in steps[:-1])
    receipt = steps[-1].receipt
    assert isinstance(receipt, NotificationReceipt)
    assert receipt.provider_message_id == placed["call_id"]
    assert receipt.call_outcome is not None and receipt.call_outcome.value == "handled"
    assert receipt.attempts == 2 and steps[-1].dead_letter is None


def test_a_call_still_ringing_at_its_timeout_counts_as_no_answer() -> None:
    schedule = CallSchedule(checks=Backoff(base_s=0.02, factor=2.0, max_s=0.05), timeout_s=0.2)

    async def scenario(http: Http) -> tuple[float, PendingCall, list[Settled]]:
        return await place_and_follow(http, request(8, voice=True), schedule)

    _, (_, _, steps) = serve_and_run(
        ProviderConfig(call_ms=10_000, outcomes={"handled": 1}), scenario, voice=True, timeout_s=0
    )
    receipt = steps[-1].receipt
    assert receipt is not None and receipt.call_outcome is not None
    assert receipt.call_outcome.value == "no_answer"
    assert receipt.detail == "call still ringing at timeout"


def test_an_unknown_call_is_a_failed_receipt_and_a_dead_letter() -> None:
    async def scenario(http: Http) -> Settled | None:
        call = PendingCall(
            event_time=T0,
            notification_id="ntf-9",
            order_id="order-1",
            purpose="voice_call",
            call_id="call-nobody-placed",
            attempts=1,
            placed_at=T0,
            check_at=T0,
            give_up_at=T0,
        )
        checked = await Retry(CallCheck(http), Backoff(max_attempts=1)).exec(CTX, call)
        assert isinstance(checked, Sent)
        return await SettleCall(CallSchedule()).exec(CTX, checked)

    _, settled = serve_and_run(ProviderConfig(), scenario, voice=True)
    assert settled is not None and settled.receipt is not None
    assert settled.receipt.status.value == "failed"
    assert settled.dead_letter is not None and "HTTP 404" in settled.dead_letter[1]


def test_an_unreachable_provider_gives_up_after_max_attempts() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on ``port`` any more.
    backoff = Backoff(base_s=0.001, factor=2.0, max_s=0.002, max_attempts=3)

    async def main() -> Outcome:
        http = Http(f"http://127.0.0.1:{port}", timeout_s=2.0)
        try:
            return await send(http, request(3), backoff)
        finally:
            await http.close()

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
        http = Http(f"http://{host}:{port}")
        try:
            return await send(http, request(4))
        finally:
            await http.close()
            await runner.cleanup()

    outcome = asyncio.run(main())
    assert outcome == Outcome(True, 3, "sms-ok", "")
    assert seen == ["ntf-4"] * 3


def test_the_number_is_looked_up_at_sending_and_reaches_only_the_provider() -> None:
    async def scenario(http: Http) -> Outcome:
        return await send(http, request(3))

    provider, outcome = serve_and_run(ProviderConfig(), scenario)
    assert outcome.delivered
    [message] = provider.messages
    assert message["to"] == "+861********02"  # the stub keeps what it was sent, masked


def test_a_receiver_with_no_number_fails_at_once_without_calling_the_provider() -> None:
    async def scenario(http: Http) -> Outcome:
        unknown = request(4).model_copy(update={"receiver": "grid.nowhere"})
        return await send(http, unknown)

    provider, outcome = serve_and_run(ProviderConfig(), scenario)
    assert not outcome.delivered and outcome.attempts == 1
    assert "no phone number for receiver 'grid.nowhere'" in outcome.detail
    assert provider.messages == []
