"""Delivery's I/O stages and their composition: the HTTP sends, the call checks, the read-back.

The last hop of the flow (order → notification → **provider** → receipt). The
pure stages live in the core (:mod:`streams.core.notifications.stages`, ``dedup``, ``retry``,
``calls``, ``receipts``); here are the ones that touch the network, and the two
chains the agents run:

- ``requests`` (agent ``deliver``, notifications topic): read back → dedup →
  retry(send) → settle. An SMS ends in its receipt; a voice call, once the
  provider has placed it, is parked on the pending-calls topic and the
  partition moves on.
- ``calls`` (agent ``follow_calls``, pending-calls topic): read back → dedup →
  wait until due → check once → settle (receipt, or parked again).

Each request carries its idempotency key, so a retry, or a redelivery the
ledger could not rule out, never makes the provider send or call twice. A request
names its receiver; the number is looked up in the routes and the directory only
as the message is handed to the provider, and only masked numbers are logged.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import Channel, Event, NotificationRequest, PendingCall
from schemas.registry import RECEIPTS
from streams.core.notifications.calls import CallSchedule, Wait
from streams.core.notifications.dedup import Dedup, ReadBack, ReceiptLedger
from streams.core.notifications.plan import mask_phone
from streams.core.notifications.receipts import SettleCall, Settled, SettleRequest
from streams.core.notifications.retry import Backoff, Retry
from streams.core.notifications.stages import (
    Answer,
    Context,
    Outcome,
    Sent,
    Stage,
    chain,
    classify,
    classify_call,
    transport_error,
)
from streams.runtime.agent import Result
from streams.runtime.metrics import Metrics
from streams.runtime.settings import Settings

log = logging.getLogger(__name__)


class Http:
    """One provider's HTTP client: a lazily opened session, JSON (or text) answers."""

    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        self.base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, object]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.request(method, self.base + path, **kwargs) as resp:
            text = await resp.text()
        try:
            body: object = json.loads(text)
        except ValueError:
            body = text[:200]
        return resp.status, body

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


#: A receiver's phone number from its name (``KeyError`` when there is none): the only
#: place a number is read, at the moment a message is handed to the provider.
PhoneOf = Callable[[str], str]


@dataclass(frozen=True)
class HttpSend:
    """One attempt to send a notification (``POST``), answered as ``(retry, outcome)``.

    The request names its receiver; ``phone_of`` gives the number, which goes to the
    provider and nowhere else (logs show it masked). A receiver with no number is a
    final failure: retrying would not give it one."""

    http: Http
    phone_of: PhoneOf
    path: str = "/v1/messages"
    id_field: str = "message_id"

    async def exec(self, ctx: Context, req: NotificationRequest, /) -> Answer:
        try:
            phone = self.phone_of(req.receiver)
        except KeyError:
            detail = f"no phone number for receiver {req.receiver!r} in the routes or directory"
            log.warning("delivery of %s failed, final: %s", req.notification_id, detail)
            return False, Outcome(False, detail=detail)
        try:
            status, body = await self.http.request(
                "POST",
                self.path,
                json={"to": phone, "text": req.message},
                headers={"Idempotency-Key": req.idempotency_key},
            )
            answer = classify(status, body, self.id_field)
        except (TimeoutError, aiohttp.ClientError) as err:
            answer = transport_error(err)
        retry, outcome = answer
        to = mask_phone(phone)
        if outcome.delivered:
            log.info(
                "%s %s via %s to %s (attempt %d)",
                "placed" if req.channel is Channel.VOICE else "delivered",
                req.notification_id,
                req.channel.value,
                to,
                ctx.attempt,
            )
        else:
            log.warning(
                "delivery of %s to %s failed (attempt %d%s): %s",
                req.notification_id,
                to,
                ctx.attempt,
                "" if retry else ", final",
                outcome.detail,
            )
        return answer


@dataclass(frozen=True)
class ByChannel:
    """The send stage of the request's channel; a channel without one is a final failure."""

    sends: Mapping[Channel, Stage[NotificationRequest, Answer]]

    async def exec(self, ctx: Context, req: NotificationRequest, /) -> Answer | None:
        send = self.sends.get(req.channel)
        if send is None:
            return False, Outcome(False, detail=f"no provider for {req.channel.value}")
        return await send.exec(ctx, req)


@dataclass(frozen=True)
class CallCheck:
    """One look at a placed call (``GET /v1/calls/{id}``): ended (final) or not yet (retry)."""

    http: Http

    async def exec(self, ctx: Context, call: PendingCall, /) -> Answer:
        try:
            path = "/v1/calls/" + urllib.parse.quote(call.call_id, safe="")
            return classify_call(*await self.http.request("GET", path))
        except (TimeoutError, aiohttp.ClientError) as err:
            log.warning("checking call %s of %s: %r", call.call_id, call.notification_id, err)
            return transport_error(err)


@dataclass(frozen=True)
class Failpoint:
    """Test-only: exit like ``kill -9`` when the named failpoint is set (else pass through)."""

    name: str
    armed: bool

    async def exec(self, ctx: Context, sent: Sent[NotificationRequest], /) -> Sent[Any]:
        if self.armed and sent.item.channel is Channel.VOICE and sent.outcome.delivered:
            log.warning("failpoint %s: exiting", self.name)
            logging.shutdown()
            os._exit(137)
        return sent


async def receipted(settings: Settings, partition: int) -> set[str]:
    """Notification ids with a receipt on partition ``partition`` of the receipts topic.

    Receipts are keyed by notification id, so the keys say it; nothing is decoded.
    """
    tp = TopicPartition(settings.topic(RECEIPTS.name), partition)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        **settings.kafka_security.aiokafka(),
    )
    await consumer.start()
    found: set[str] = set()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, 0)
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            found.update(r.key.decode() for r in batch.get(tp, []) if r.key is not None)
    finally:
        await consumer.stop()
    return found


@dataclass
class Delivery:
    """The two chains, their shared ledger and clients; results for the agents' hops."""

    settings: Settings
    metrics: Metrics
    clock: Callable[[], datetime]
    #: a receiver's number, looked up when its message is sent
    phone_of: PhoneOf
    ledger: ReceiptLedger = field(default_factory=ReceiptLedger)

    def __post_init__(self) -> None:
        s = self.settings
        self.sms, self.voice = (
            Http(s.sms_url, s.delivery_timeout_s),
            Http(s.voice_url, s.delivery_timeout_s),
        )
        backoff = Backoff(base_s=s.delivery_backoff_s, max_attempts=s.delivery_max_attempts)
        schedule = CallSchedule(timeout_s=s.delivery_timeout_s or 30.0)
        read_back: ReadBack[Any] = ReadBack(self.ledger, lambda p: receipted(s, p))
        sends = {
            Channel.SMS: HttpSend(self.sms, self.phone_of),
            Channel.VOICE: HttpSend(self.voice, self.phone_of, "/v1/calls", "call_id"),
        }
        self.requests: Stage[NotificationRequest, Settled] = chain(
            read_back,
            Dedup(self.ledger, lambda r: r.notification_id),
            Retry(ByChannel(sends), backoff),
            Failpoint("die_after_call_placed", s.failpoint == "die_after_call_placed"),
            SettleRequest(schedule),
        )
        self.calls: Stage[PendingCall, Settled] = chain(
            read_back,
            Dedup(self.ledger, lambda c: c.notification_id),
            Wait(schedule.longest_wait_s),
            Retry(CallCheck(self.voice), Backoff(max_attempts=1)),
            SettleCall(schedule),
        )

    async def run(
        self,
        stages: Stage[Any, Settled],
        emit: Callable[[Sequence[Event]], Awaitable[None]],
        partition: int,
        item: Any,
    ) -> Result:
        """One item through a chain. ``emit`` publishes and awaits the ``before`` outputs;
        the hop then publishes the rest, and once they are acknowledged :meth:`_commit` runs."""
        settled = await stages.exec(Context(partition, clock=self.clock), item)
        if settled is None:  # already receipted: a redelivery
            self.metrics.notifications.labels(_channel(item), "duplicate").inc()
            return Result()
        if settled.before:
            await emit(settled.before)  # acknowledged before the receipt goes out
        return Result(
            outputs=settled.outputs,
            dead_letter=settled.dead_letter,
            commit=lambda: self._commit(settled, partition),
        )

    def _commit(self, settled: Settled, partition: int) -> None:
        receipt = settled.receipt
        if receipt is None:
            return
        if self.settings.failpoint == "die_after_call_receipt" and receipt.call_outcome:
            log.warning("failpoint die_after_call_receipt: exiting")
            logging.shutdown()
            os._exit(137)
        self.ledger.add(partition, receipt.notification_id)
        self.metrics.notifications.labels(receipt.channel.value, receipt.status.value).inc()

    async def close(self, *_: Any, **__: Any) -> None:
        """Close the HTTP sessions: otherwise every stop logs "Unclosed client session"."""
        await self.sms.close()
        await self.voice.close()

    async def forget(self, *_: Any, **__: Any) -> None:
        """Partitions were revoked: read receipts back again when next handled."""
        self.ledger.forget()


def _channel(item: object) -> str:
    return item.channel.value if isinstance(item, NotificationRequest) else Channel.VOICE.value
