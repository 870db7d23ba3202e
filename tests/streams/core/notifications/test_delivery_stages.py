"""Delivery's pure stages without a broker or a network: contract, retry, dedup, settle, wait."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta

import pytest
from delivery_fakes import T0, FakeTime, Scripted, call, request, run
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import Channel, DispatchUpdate, NotificationRequest, OrderAction, PendingCall
from streams.core.notifications.calls import CallSchedule, Wait
from streams.core.notifications.dedup import Dedup, ReadBack, ReceiptLedger
from streams.core.notifications.receipts import SettleCall, Settled, SettleRequest
from streams.core.notifications.retry import Backoff, Retry
from streams.core.notifications.stages import (
    Answer,
    Context,
    Outcome,
    Sent,
    classify,
    classify_call,
    final,
    transport_error,
)

# -- the (retry, outcome) contract -------------------------------------------------------------

answers = st.tuples(
    st.booleans(),
    st.builds(Outcome, delivered=st.booleans(), detail=st.text(max_size=5)),
)


@given(
    st.integers(100, 599),
    st.one_of(
        st.none(),
        st.text(max_size=3),
        st.dictionaries(st.sampled_from(["message_id", "error"]), st.text(max_size=4)),
    ),
)
def test_classify_retries_exactly_what_another_try_may_fix(status: int, body: object) -> None:
    retry, outcome = classify(status, body, "message_id")
    if outcome.delivered:
        assert status == 200 and not retry
    elif 400 <= status < 500 and status != 429:
        assert not retry  # a client error is final
    else:
        assert retry
    assert len(outcome.detail) <= 2000


def test_a_call_answer_ends_it_only_with_a_known_outcome() -> None:
    assert classify_call(200, {"status": "completed", "outcome": "handled"}) == (
        False,
        Outcome(True, call_outcome="handled"),
    )
    assert classify_call(200, {"status": "completed", "outcome": "hung_up"})[0] is True
    assert classify_call(503, {"error": "busy"})[0] is True
    assert classify_call(404, {"error": "no call"})[0] is False
    assert transport_error(TimeoutError("slow"))[0] is True


# -- retry -------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(answers, min_size=1, max_size=12), st.integers(1, 8))
def test_retry_never_exceeds_its_bound_and_never_retries_a_final_answer(
    script: list[Answer], max_attempts: int
) -> None:
    backoff = Backoff(base_s=0.1, factor=2.0, max_s=0.5, max_attempts=max_attempts)
    provider = Scripted(script)
    clock = FakeTime()
    sent = run(Retry(provider, backoff).exec(clock.ctx(), "req"))
    assert isinstance(sent, Sent)
    n = len(provider.sends)
    assert 1 <= n <= max_attempts
    assert provider.sends == list(range(1, n + 1))
    answered = [script[min(len(script), k) - 1] for k in range(1, n + 1)]
    # every answer but the last was worth another try; the last is final or the bound
    assert not any(final(a) for a in answered[:-1])
    assert final(answered[-1]) or n == max_attempts
    retry, last = answered[-1]
    assert sent.outcome.attempts == n
    assert sent.outcome.delivered == last.delivered and sent.outcome.detail == last.detail
    assert sent.retry == (retry and not last.delivered)
    assert clock.slept == [backoff.delay(k) for k in range(1, n + 1)]


def test_retry_stops_when_the_send_stops_the_chain() -> None:
    class Stops:
        async def exec(self, ctx: Context, item: object, /) -> Answer | None:
            return None

    assert run(Retry(Stops(), Backoff()).exec(FakeTime().ctx(), "req")) is None


# -- dedup and the read-back -------------------------------------------------------------------


def test_dedup_stops_only_what_its_partition_has_receipted() -> None:
    ledger = ReceiptLedger()
    ledger.build(0, ["ntf-1"])
    dedup: Dedup[NotificationRequest] = Dedup(ledger, lambda r: r.notification_id)
    time = FakeTime()
    assert run(dedup.exec(time.ctx(0), request(1))) is None
    assert run(dedup.exec(time.ctx(1), request(1))) == request(1)
    assert run(dedup.exec(time.ctx(0), request(2))) == request(2)


def test_a_read_back_runs_once_per_partition_shared_and_again_after_a_forget() -> None:
    ledger = ReceiptLedger()
    reads: list[int] = []

    async def read(p: int) -> Iterable[str]:
        reads.append(p)
        await asyncio.sleep(0)
        return [f"ntf-p{p}"]

    back: ReadBack[str] = ReadBack(ledger, read)

    async def main() -> None:
        ctx = Context(0, sleep=FakeTime().sleep)
        await asyncio.gather(*(back.exec(ctx, "x") for _ in range(5)))
        await back.exec(Context(1, sleep=FakeTime().sleep), "x")
        ledger.forget()
        await back.exec(ctx, "x")

    run(main())
    assert reads == [0, 1, 0]
    assert ledger.seen(0, "ntf-p0") and not ledger.seen(0, "ntf-p1")


def test_a_read_back_is_retried_and_one_begun_before_a_forget_is_not_trusted() -> None:
    ledger = ReceiptLedger()
    calls: list[int] = []

    async def read(p: int) -> Iterable[str]:
        calls.append(p)
        if len(calls) == 1:
            raise ConnectionError("broker not there yet")
        if len(calls) == 2:
            ledger.forget()  # partitions moved while reading: the answer may be stale
        return ["ntf-1"]

    time = FakeTime()
    run(ReadBack(ledger, read).exec(time.ctx(), "x"))
    assert len(calls) == 3 and ledger.built(0) and ledger.seen(0, "ntf-1")
    assert time.slept[0] == 0.0 and all(s > 0 for s in time.slept[1:])


# -- settle ------------------------------------------------------------------------------------


def test_an_sms_settles_as_its_receipt_and_a_failure_also_as_a_dead_letter() -> None:
    time = FakeTime()
    settle = SettleRequest(CallSchedule())
    ok = run(settle.exec(time.ctx(), Sent(request(1), False, Outcome(True, 2, "sms-1"))))
    assert isinstance(ok, Settled) and ok.dead_letter is None and ok.before == ()
    assert ok.outputs == (ok.receipt,) and ok.receipt is not None
    assert (ok.receipt.status.value, ok.receipt.attempts, ok.receipt.provider_message_id) == (
        "delivered",
        2,
        "sms-1",
    )
    bad = run(settle.exec(time.ctx(), Sent(request(1), True, Outcome(False, 5, None, "HTTP 503"))))
    assert isinstance(bad, Settled) and bad.receipt is not None
    assert bad.receipt.status.value == "failed"
    assert bad.dead_letter is not None and bad.dead_letter[0].value == "undeliverable"
    assert bad.dead_letter[1] == "gave up after 5 attempts: HTTP 503"
    assert bad.receipt.receipt_id != ok.receipt.receipt_id  # one id per (notification, status)


def test_a_placed_call_is_parked_not_receipted() -> None:
    time = FakeTime()
    schedule = CallSchedule(checks=Backoff(base_s=0.25, factor=2.0, max_s=1.0), timeout_s=60)
    sent = Sent(request(3, Channel.VOICE, "voice_call"), False, Outcome(True, 2, "call-3"))
    settled = run(SettleRequest(schedule).exec(time.ctx(), sent))
    assert isinstance(settled, Settled) and settled.receipt is None and settled.dead_letter is None
    [parked] = settled.outputs
    assert isinstance(parked, PendingCall)
    assert (parked.notification_id, parked.call_id, parked.attempts, parked.checks) == (
        "ntf-3",
        "call-3",
        2,
        0,
    )
    assert parked.check_at - parked.placed_at == timedelta(seconds=0.25)
    assert parked.give_up_at - parked.placed_at == timedelta(seconds=60)
    assert "+86" not in parked.model_dump_json()  # no phone number on the internal topic


def test_a_needs_help_answer_requests_help_before_its_receipt() -> None:
    time = FakeTime()
    checked = Sent(call(4), False, Outcome(True, call_outcome="needs_help"))
    settled = run(SettleCall(CallSchedule()).exec(time.ctx(), checked))
    assert isinstance(settled, Settled) and settled.receipt is not None
    [update] = settled.before
    assert isinstance(update, DispatchUpdate)
    assert (update.order_id, update.action) == ("order-4", OrderAction.HELP_REQUESTED)
    assert settled.receipt.call_outcome is not None
    assert settled.receipt.call_outcome.value == "needs_help"
    assert (settled.receipt.provider_message_id, settled.receipt.attempts) == ("call-4", 1)
    # the same check again makes the same ids: a redelivery publishes nothing new
    again = run(SettleCall(CallSchedule()).exec(time.ctx(), checked))
    assert isinstance(again, Settled) and again.before == settled.before
    assert again.receipt == settled.receipt
    # a call that is not auto-disposal's own (a dispatch by voice): no hand-over
    other = run(
        SettleCall(CallSchedule()).exec(
            time.ctx(), Sent(call(5, purpose="dispatch"), False, checked.outcome)
        )
    )
    assert isinstance(other, Settled) and other.before == ()


@given(st.integers(0, 50), st.floats(0.0, 120.0))
def test_a_ringing_call_is_parked_later_until_it_times_out(checks: int, elapsed: float) -> None:
    schedule = CallSchedule(checks=Backoff(base_s=0.1, factor=1.5, max_s=1.0), timeout_s=30.0)
    time = FakeTime(T0 + timedelta(seconds=elapsed))
    pending = call(6, checks=checks)
    settled = run(
        SettleCall(schedule).exec(time.ctx(), Sent(pending, True, Outcome(False, detail="ringing")))
    )
    assert isinstance(settled, Settled)
    if elapsed >= 30.0:
        assert settled.receipt is not None and settled.receipt.call_outcome is not None
        assert settled.receipt.call_outcome.value == "no_answer"
        assert settled.receipt.detail == "call still ringing at timeout"
    else:
        [again] = settled.outputs
        assert isinstance(again, PendingCall) and settled.receipt is None
        assert again.checks == checks + 1 and again.call_id == pending.call_id
        assert timedelta(0) < again.check_at - time.now <= timedelta(seconds=1.0)
        assert again.give_up_at == pending.give_up_at


def test_wait_sleeps_until_due_and_never_longer_than_its_cap() -> None:
    time = FakeTime()
    run(Wait(1.0).exec(time.ctx(), call(7)))  # due in 0.1 s
    run(Wait(1.0).exec(time.ctx(), call(7)))  # due already
    far = call(7).model_copy(update={"check_at": T0 + timedelta(hours=1)})
    run(Wait(1.0).exec(time.ctx(), far))  # a skewed clock: checks anyway after the cap
    assert time.slept == [pytest.approx(0.1), 1.0]
