"""The stub SMS/voice provider over HTTP, driven with aiohttp's test client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streams.core.notifications.plan import mask_phone
from streams.dev.sinks.provider import ProviderConfig, StubProvider, VoiceStub

PHONE = "+8613812345678"
Scenario = Callable[[TestClient[Any, Any], StubProvider], Awaitable[None]]


def run(scenario: Scenario, stub: type[StubProvider] = StubProvider, **config: Any) -> StubProvider:
    """Serve a fresh stub on a test server and run ``scenario`` against it."""

    async def main() -> StubProvider:
        provider = stub(ProviderConfig(**config))
        async with TestClient(TestServer(provider.app())) as client:
            await scenario(client, provider)
        return provider

    return asyncio.run(main())


async def send(
    client: TestClient[Any, Any],
    key: str | None = "ntf-1",
    body: Any = None,
    **kw: Any,
) -> tuple[int, Any]:
    headers = {} if key is None else {"Idempotency-Key": key}
    payload = {"to": PHONE, "text": "gas at restaurant-7"} if body is None else body
    resp = await client.post("/v1/messages", json=payload, headers=headers, **kw)
    return resp.status, await resp.json()


def test_send_returns_a_message_id() -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        status, body = await send(client)
        assert status == 200
        assert body["duplicate"] is False
        assert body["message_id"].startswith("sms-")
        assert provider.by_key == {"ntf-1": body["message_id"]}
        assert [m["message_id"] for m in provider.messages] == [body["message_id"]]
        assert provider.messages[0]["text"] == "gas at restaurant-7"
        assert provider.messages[0]["idempotency_key"] == "ntf-1"

    run(scenario)


def test_the_channel_prefixes_message_ids() -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        _, body = await send(client)
        assert body["message_id"].startswith("voice-")
        health = await (await client.get("/healthz")).json()
        assert health == {"ok": True, "channel": "voice"}

    run(scenario, channel="voice")


def test_the_same_idempotency_key_is_delivered_once() -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        status1, first = await send(client, key="ntf-same")
        status2, second = await send(client, key="ntf-same", body={"to": PHONE, "text": "again"})
        assert status1 == status2 == 200
        assert second["message_id"] == first["message_id"]
        assert (first["duplicate"], second["duplicate"]) == (False, True)
        _, other = await send(client, key="ntf-other")
        assert other["message_id"] != first["message_id"]

        stats = await (await client.get("/v1/stats")).json()
        assert stats == {
            "accepted": 2,
            "duplicates": 1,
            "injected_failures": 0,
            "lost_responses": 0,
        }
        listed = (await (await client.get("/v1/messages")).json())["messages"]
        assert [m["idempotency_key"] for m in listed] == ["ntf-same", "ntf-other"]
        assert listed[0]["text"] == "gas at restaurant-7"  # the first text, not the retry's

    provider = run(scenario)
    assert provider.duplicates == 1
    assert len(provider.messages) == 2


def test_concurrent_sends_with_one_key_are_recorded_once() -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        results = await asyncio.gather(*(send(client, key="ntf-race") for _ in range(20)))
        assert {status for status, _ in results} == {200}
        assert len({body["message_id"] for _, body in results}) == 1
        assert sum(not body["duplicate"] for _, body in results) == 1

    provider = run(scenario, latency_ms=1)
    assert len(provider.messages) == 1
    assert provider.duplicates == 19


@pytest.mark.parametrize("key", [None, "", "has space", "k" * 129, "ключ"])
def test_a_missing_or_malformed_key_is_a_bad_request(key: str | None) -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        status, body = await send(client, key=key)
        assert status == 400
        assert "Idempotency-Key" in body["error"]

    provider = run(scenario)
    assert provider.messages == []
    assert provider.by_key == {}


@pytest.mark.parametrize(
    "body",
    [
        {"to": "call me", "text": "hi"},
        {"to": "1234", "text": "hi"},
        {"to": 8613812345678, "text": "hi"},
        {"text": "hi"},
    ],
)
def test_a_bad_phone_is_a_bad_request(body: dict[str, Any]) -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        status, answer = await send(client, body=body)
        assert status == 400
        assert "'to'" in answer["error"]

    assert run(scenario).messages == []


@pytest.mark.parametrize(
    "body", [{"to": PHONE}, {"to": PHONE, "text": ""}, {"to": PHONE, "text": "x" * 2001}]
)
def test_a_bad_text_is_a_bad_request(body: dict[str, Any]) -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        status, answer = await send(client, body=body)
        assert status == 400
        assert "'text'" in answer["error"]

    assert run(scenario).messages == []


def test_a_body_that_is_not_a_json_object_is_a_bad_request() -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        for data, error in [(b"{nope", "not JSON"), (b"[1, 2]", "JSON object")]:
            resp = await client.post(
                "/v1/messages", data=data, headers={"Idempotency-Key": "ntf-1"}
            )
            assert resp.status == 400
            assert error in (await resp.json())["error"]

    assert run(scenario).messages == []


def test_injected_failures_before_accepting_answer_503_and_record_nothing() -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        for _ in range(3):
            status, body = await send(client)
            assert status == 503
            assert "injected failure: provider temporarily unavailable" in body["error"]
        stats = await (await client.get("/v1/stats")).json()
        assert stats == {
            "accepted": 0,
            "duplicates": 0,
            "injected_failures": 3,
            "lost_responses": 0,
        }

    provider = run(scenario, failure_rate=1.0, lost_response_rate=0.0)
    assert provider.messages == []
    assert provider.by_key == {}


def test_a_lost_answer_is_accepted_and_its_retry_gets_the_first_message_id() -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        status, body = await send(client, key="ntf-lost")
        assert status == 503
        assert "injected failure: accepted, but the answer was lost" in body["error"]
        # The provider did send it: the message is recorded under its key.
        assert list(provider.by_key) == ["ntf-lost"]
        [sent] = provider.messages
        status, retry = await send(client, key="ntf-lost", body={"to": PHONE, "text": "again"})
        assert status == 200
        assert retry == {"message_id": sent["message_id"], "duplicate": True}
        stats = await (await client.get("/v1/stats")).json()
        assert stats == {
            "accepted": 1,
            "duplicates": 1,
            "injected_failures": 1,
            "lost_responses": 1,
        }

    provider = run(scenario, failure_rate=1.0, lost_response_rate=1.0)
    assert len(provider.messages) == 1
    assert provider.messages[0]["text"] == "gas at restaurant-7"  # not sent a second time


def test_by_default_a_share_of_injected_failures_lose_the_answer() -> None:
    assert ProviderConfig().lost_response_rate == 0.5

    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        for i in range(40):
            status, _ = await send(client, key=f"ntf-{i}")
            assert status == 503

    provider = run(scenario, failure_rate=1.0, seed=5)
    assert provider.injected_failures == 40
    assert 0 < provider.lost_responses < 40
    # Exactly the lost answers were accepted; the others recorded nothing.
    assert len(provider.messages) == len(provider.by_key) == provider.lost_responses


def test_a_seeded_failure_rate_is_reproducible() -> None:
    def statuses() -> list[int]:
        seen: list[int] = []

        async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
            for i in range(30):
                status, _ = await send(client, key=f"ntf-{i}")
                seen.append(status)

        run(scenario, failure_rate=0.5, seed=11)
        return seen

    first = statuses()
    assert set(first) == {200, 503}
    assert statuses() == first


def test_recorded_numbers_are_masked() -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        await send(client)
        text = await (await client.get("/v1/messages")).text()
        assert PHONE not in text
        assert mask_phone(PHONE) in text

    provider = run(scenario)
    assert provider.messages[0]["to"] == mask_phone(PHONE)
    assert all(PHONE not in str(m) for m in provider.messages)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"failure_rate": 1.5}, "failure_rate"),
        ({"failure_rate": -0.1}, "failure_rate"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"lost_response_rate": 1.01}, "lost_response_rate"),
        ({"lost_response_rate": -0.5}, "lost_response_rate"),
        ({"outcomes": {"hung_up": 1.0}}, "outcomes"),
        ({"outcomes": {}}, "outcomes"),
        ({"outcomes": {"handled": -1.0, "no_answer": 2.0}}, "outcomes"),
        ({"outcomes": {"handled": 0.0}}, "at least one weight"),
    ],
)
def test_provider_config_is_checked(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProviderConfig(**config)  # type: ignore[arg-type]


# --- the voice stub -----------------------------------------------------------------


async def call(client: TestClient[Any, Any], key: str = "ntf-v1") -> tuple[int, Any]:
    payload = {"to": PHONE, "text": "gas alarm, please check the valve"}
    resp = await client.post("/v1/calls", json=payload, headers={"Idempotency-Key": key})
    return resp.status, await resp.json()


def test_a_call_rings_then_completes_with_its_outcome() -> None:
    async def scenario(client: TestClient[Any, Any], provider: StubProvider) -> None:
        status, body = await call(client)
        assert status == 200
        assert body["status"] == "ringing" and body["duplicate"] is False
        call_id = body["call_id"]
        assert call_id.startswith("call-")
        state = await (await client.get(f"/v1/calls/{call_id}")).json()
        assert state == {"call_id": call_id, "status": "ringing", "outcome": None}
        await asyncio.sleep(0.5)
        state = await (await client.get(f"/v1/calls/{call_id}")).json()
        assert state == {"call_id": call_id, "status": "completed", "outcome": "needs_help"}
        # The same key is the same call: the party is never called twice.
        status, again = await call(client)
        assert status == 200
        assert again == {"call_id": call_id, "status": "completed", "duplicate": True}
        missing = await client.get("/v1/calls/call-nope")
        assert missing.status == 404
        [listed] = (await (await client.get("/v1/calls")).json())["calls"]
        assert listed["to"] == mask_phone(PHONE) and "ends_at" not in listed

    provider = run(scenario, VoiceStub, call_ms=300, outcomes={"needs_help": 1.0})
    assert provider.duplicates == 1
    assert len(provider.messages) == 1


def test_call_outcomes_are_deterministic_per_key_and_seed() -> None:
    config = ProviderConfig(seed=4)
    outcomes = [VoiceStub(config)._outcome(f"ntf-{i}") for i in range(200)]
    assert outcomes == [VoiceStub(config)._outcome(f"ntf-{i}") for i in range(200)]
    assert set(outcomes) == {"handled", "needs_help", "no_answer"}
    assert outcomes.count("handled") > outcomes.count("needs_help") > outcomes.count("no_answer")
