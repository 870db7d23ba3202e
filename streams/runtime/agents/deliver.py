"""Agent ``deliver``: notification requests → provider → receipts (notification → **provider**).

SMS and voice each have a provider; a voice receipt carries the call's outcome.
A "needs help" answer to the automatic call of an auto-disposal order also
becomes a ``help_requested`` lifecycle update (keyed by the order, read by
``track_orders``): a person takes the order over at once, not at the re-check.

Retries with exponential backoff; the idempotency key makes retries and
redeliveries safe. A request still undelivered after its last attempt gets a
``failed`` receipt and a dead letter with reason ``undeliverable``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import faust

from schemas import (
    CallOutcome,
    Channel,
    DeadLetterReason,
    DispatchUpdate,
    Event,
    NotificationReceipt,
    NotificationRequest,
    OrderAction,
    ReceiptStatus,
)
from schemas.registry import NOTIFICATIONS
from streams.core.notifications.plan import PURPOSE_VOICE_CALL
from streams.core.notifications.retry import Backoff
from streams.core.shared.ids import stable_id
from streams.runtime.delivery import HttpProvider, VoiceProvider
from streams.runtime.hop import Hop, Result

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline


def register(pipe: Pipeline) -> None:
    s = pipe.settings
    backoff = Backoff(base_s=s.delivery_backoff_s, max_attempts=s.delivery_max_attempts)
    providers: dict[Channel, HttpProvider] = {
        Channel.SMS: HttpProvider(s.sms_url, backoff, s.delivery_timeout_s),
        Channel.VOICE: VoiceProvider(s.voice_url, backoff, s.delivery_timeout_s),
    }
    hop: Hop[NotificationRequest] = Hop(pipe, "deliver", NOTIFICATIONS)

    async def close_providers(*_: Any, **__: Any) -> None:
        # their HTTP sessions: otherwise every stop logs "Unclosed client session"
        for provider in providers.values():
            await provider.close()

    pipe.app.on_before_shutdown.connect(close_providers)

    async def core(req: NotificationRequest) -> Result:
        provider = providers.get(req.channel)
        if provider is None:
            pipe.metrics.notifications.labels(req.channel.value, "no_provider").inc()
            return Result(
                dead_letter=(DeadLetterReason.UNDELIVERABLE, f"no provider for {req.channel.value}")
            )
        outcome = await provider.deliver(req)
        status = ReceiptStatus.DELIVERED if outcome.delivered else ReceiptStatus.FAILED
        pipe.metrics.notifications.labels(req.channel.value, status.value).inc()
        receipt = NotificationReceipt(
            receipt_id=stable_id("rcpt", req.notification_id, status.value),
            notification_id=req.notification_id,
            order_id=req.order_id,
            channel=req.channel,
            status=status,
            attempts=outcome.attempts,
            provider_message_id=outcome.message_id,
            detail=outcome.detail,
            call_outcome=CallOutcome(outcome.call_outcome) if outcome.call_outcome else None,
            event_time=pipe.clock(),
        )
        dead = (
            None
            if outcome.delivered
            else (
                DeadLetterReason.UNDELIVERABLE,
                f"gave up after {outcome.attempts} attempts: {outcome.detail}",
            )
        )
        outputs: list[Event] = [receipt]
        if receipt.call_outcome is CallOutcome.NEEDS_HELP and req.purpose == PURPOSE_VOICE_CALL:
            # the party concerned asked for help: the order goes to a person now
            outputs.append(
                DispatchUpdate(
                    update_id=stable_id("help", req.notification_id),
                    order_id=req.order_id,
                    action=OrderAction.HELP_REQUESTED,
                    actor="voice-call",
                    note="the party concerned answered the automatic call: needs help",
                    event_time=receipt.event_time,
                )
            )
        return Result(outputs=outputs, dead_letter=dead)

    async def handle(event: faust.EventT) -> None:
        await hop.handle(event, core)

    pipe.wiring.on("deliver", [NOTIFICATIONS], handle)
