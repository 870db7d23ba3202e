"""Delivery's chains composed as the runtime composes them, with fakes for the I/O.

Broker-free: a simulated voice provider whose calls end after a while, a clock
whose sleep moves it; the properties are the ones the integration scenarios
check on the real broker (one receipt per notification, one hand-over).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from delivery_fakes import FakeTime, Scripted, request, run
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from schemas import (
    Channel,
    DispatchUpdate,
    Event,
    NotificationReceipt,
    NotificationRequest,
    PendingCall,
)
from streams.core.notifications.calls import CallSchedule, Wait
from streams.core.notifications.dedup import Dedup, ReadBack, ReceiptLedger
from streams.core.notifications.receipts import SettleCall, Settled, SettleRequest
from streams.core.notifications.retry import Backoff, Retry
from streams.core.notifications.stages import Answer, Context, Outcome, Stage, chain
from streams.runtime.delivery import ByChannel, Delivery
from streams.runtime.metrics import Metrics
from streams.runtime.settings import Settings


@dataclass
class SimulatedCalls:
    """A voice provider: placing answers at once; a call ends ``call_s`` after it was placed."""

    time: FakeTime
    call_s: float
    outcome: str = "needs_help"
    placed: dict[str, datetime] = field(default_factory=dict)
    checks: int = 0

    async def exec(self, ctx: Context, item: NotificationRequest | PendingCall, /) -> Answer:
        if isinstance(item, NotificationRequest):
            self.placed.setdefault(item.idempotency_key, self.time.now)
            return False, Outcome(True, message_id=f"call-{item.idempotency_key}")
        self.checks += 1
        ended = self.time.now >= self.placed[item.notification_id] + timedelta(seconds=self.call_s)
        if ended:
            return False, Outcome(True, call_outcome=self.outcome)
        return True, Outcome(False, detail="ringing")


def chains(
    ledger: ReceiptLedger, sms: Stage[NotificationRequest, Answer], voice: SimulatedCalls
) -> tuple[Stage[NotificationRequest, Settled], Stage[PendingCall, Settled]]:
    """The composition of :class:`streams.runtime.delivery.Delivery`, with fakes for the I/O."""
    schedule = CallSchedule(timeout_s=30.0)

    async def nothing(p: int) -> Iterable[str]:
        return ()

    back: ReadBack[object] = ReadBack(ledger, nothing)
    requests = chain(
        back,
        Dedup(ledger, lambda r: r.notification_id),
        Retry(
            ByChannel({Channel.SMS: sms, Channel.VOICE: voice}), Backoff(base_s=0.1, max_attempts=3)
        ),
        SettleRequest(schedule),
    )
    calls = chain(
        back,
        Dedup(ledger, lambda c: c.notification_id),
        Wait(schedule.longest_wait_s),
        Retry(voice, Backoff(max_attempts=1)),
        SettleCall(schedule),
    )
    return requests, calls


def test_a_redelivered_notification_whose_receipt_is_out_is_not_sent_again() -> None:
    time, ledger = FakeTime(), ReceiptLedger()
    sms = Scripted(
        [(True, Outcome(False, detail="HTTP 503")), (False, Outcome(True, message_id="m"))]
    )
    requests, _ = chains(ledger, sms, SimulatedCalls(time, 1.0))
    first = run(requests.exec(time.ctx(), request(1)))
    assert isinstance(first, Settled) and first.receipt is not None
    assert first.receipt.attempts == 2 and len(sms.sends) == 2
    ledger.add(0, first.receipt.notification_id)  # what the runtime does once it is acknowledged
    assert run(requests.exec(time.ctx(), request(1))) is None
    assert len(sms.sends) == 2


@settings(max_examples=100, deadline=None)
@given(
    copies=st.integers(1, 4),
    order=st.randoms(use_true_random=False),
    call_s=st.floats(0.0, 10.0),
)
def test_a_call_outcome_is_published_once_however_often_its_pending_call_comes_back(
    copies: int, order: object, call_s: float
) -> None:
    """Redeliveries (a kill -9 before a commit) duplicate the notification and its pending
    call; processed in any order, the outcome is published once, its hand-over once."""
    time, ledger = FakeTime(), ReceiptLedger()
    voice = SimulatedCalls(time, call_s)
    requests, calls = chains(ledger, Scripted([(False, Outcome(True))]), voice)
    req = request(9, Channel.VOICE, "voice_call")
    queue: list[PendingCall] = []
    for _ in range(copies):  # the notification, and its redeliveries
        settled = run(requests.exec(time.ctx(), req))
        if settled is not None:
            queue += [o for o in settled.outputs if isinstance(o, PendingCall)]
    published: list[Event] = []
    steps = 0
    while queue and steps < 10_000:
        steps += 1
        pending = queue.pop(order.randrange(len(queue)))  # type: ignore[attr-defined]
        settled = run(calls.exec(time.ctx(), pending))
        if settled is None:
            continue
        published += [*settled.before, *settled.outputs]
        if settled.receipt is not None:
            ledger.add(0, settled.receipt.notification_id)
        queue += [o for o in settled.outputs if isinstance(o, PendingCall)]
    receipts = [e for e in published if isinstance(e, NotificationReceipt)]
    assert len(receipts) == 1 and not queue
    assert receipts[0].call_outcome is not None and receipts[0].call_outcome.value == "needs_help"
    assert len([e for e in published if isinstance(e, DispatchUpdate)]) == 1
    assert len(voice.placed) == 1


def test_the_runtime_records_a_receipt_only_once_it_is_acknowledged() -> None:
    time = FakeTime()
    delivery = Delivery(
        Settings(kafka_bootstrap="127.0.0.1:1"),
        Metrics(CollectorRegistry()),
        time.wall,
        {"duty": "+8613800000002"}.__getitem__,
    )
    voice = SimulatedCalls(time, 0.0)
    requests, calls = chains(delivery.ledger, Scripted([(False, Outcome(True))]), voice)
    emitted: list[Sequence[Event]] = []

    async def emit(events: Sequence[Event]) -> None:
        emitted.append(events)

    req = request(2, Channel.VOICE, "voice_call")
    parked = asyncio.run(delivery.run(requests, emit, 1, req))
    [pending] = parked.outputs
    assert isinstance(pending, PendingCall) and parked.commit is not None
    parked.commit()
    assert not delivery.ledger.seen(1, "ntf-2")  # parked, not receipted
    result = asyncio.run(delivery.run(calls, emit, 1, pending))
    [before] = emitted
    assert [type(e) for e in before] == [DispatchUpdate]  # out before the receipt is returned
    assert [type(e) for e in result.outputs] == [NotificationReceipt]
    assert not delivery.ledger.seen(1, "ntf-2") and result.commit is not None
    result.commit()  # the hop calls it once the broker has acknowledged the outputs
    assert delivery.ledger.seen(1, "ntf-2")
    again = asyncio.run(delivery.run(calls, emit, 1, pending))
    assert again.outputs == () and again.commit is None
    samples = {
        s.labels["outcome"]: s.value
        for m in delivery.metrics.notifications.collect()
        for s in m.samples
        if s.name.endswith("_total") and s.labels["channel"] == "voice"
    }
    assert samples == {"delivered": 1.0, "duplicate": 1.0}
