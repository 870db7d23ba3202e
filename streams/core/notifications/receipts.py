"""Settle: what a sent notification, or a checked call, becomes on the topics.

(order → notification → provider → **receipt**.) The last stage of both
delivery chains, pure:

- a notification sent (or given up on) → its receipt; a failed one also a dead
  letter with reason ``undeliverable`` (re-drive it from there);
- a voice call the provider placed → a ``PendingCall`` (:mod:`streams.core.notifications.calls`),
  no receipt yet;
- a checked call that ended → its receipt with the call's outcome; one still
  ringing → parked again, or, past its time, a receipt with ``no_answer``.

A "needs help" answer to the automatic call of an auto-disposal order also
becomes a ``help_requested`` lifecycle update (keyed by the order, read by
``track_orders``): a person takes the order over at once, not at the re-check.
It goes in ``before``: published and acknowledged before the receipt, so a
receipt on the topic means its hand-over went out too. Receipt and update ids
are deterministic from the notification, so a redelivery publishes nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from schemas import (
    CallOutcome,
    Channel,
    DeadLetterReason,
    DispatchUpdate,
    Event,
    NotificationReceipt,
    NotificationRequest,
    OrderAction,
    PendingCall,
    ReceiptStatus,
)
from streams.core.notifications.calls import CallSchedule, park, park_again, timed_out
from streams.core.notifications.plan import PURPOSE_VOICE_CALL
from streams.core.notifications.stages import Context, Outcome, Sent
from streams.core.shared.ids import stable_id


@dataclass(frozen=True)
class Settled:
    """What to publish for one notification or call check."""

    #: published and acknowledged first (the help request before its receipt)
    before: tuple[Event, ...] = ()
    outputs: tuple[Event, ...] = ()
    dead_letter: tuple[DeadLetterReason, str] | None = None
    #: the receipt among the outputs, if any: recorded as published once acknowledged
    receipt: NotificationReceipt | None = field(default=None)


def settle(
    notification_id: str,
    order_id: str,
    channel: Channel,
    purpose: str,
    outcome: Outcome,
    now: datetime,
) -> Settled:
    """A final outcome: the receipt, and a dead letter or a help request where due."""
    status = ReceiptStatus.DELIVERED if outcome.delivered else ReceiptStatus.FAILED
    receipt = NotificationReceipt(
        receipt_id=stable_id("rcpt", notification_id, status.value),
        notification_id=notification_id,
        order_id=order_id,
        channel=channel,
        status=status,
        attempts=max(1, outcome.attempts),
        provider_message_id=outcome.message_id,
        detail=outcome.detail[:2000],
        call_outcome=CallOutcome(outcome.call_outcome) if outcome.call_outcome else None,
        event_time=now,
    )
    dead = (
        None
        if outcome.delivered
        else (
            DeadLetterReason.UNDELIVERABLE,
            f"gave up after {receipt.attempts} attempts: {outcome.detail}",
        )
    )
    before: tuple[Event, ...] = ()
    if receipt.call_outcome is CallOutcome.NEEDS_HELP and purpose == PURPOSE_VOICE_CALL:
        before = (
            DispatchUpdate(
                update_id=stable_id("help", notification_id),
                order_id=order_id,
                action=OrderAction.HELP_REQUESTED,
                actor="voice-call",
                note="the party concerned answered the automatic call: needs help",
                event_time=now,
            ),
        )
    return Settled(before=before, outputs=(receipt,), dead_letter=dead, receipt=receipt)


@dataclass(frozen=True)
class SettleRequest:
    """A notification sent: its receipt, or, for a call the provider placed, the call parked."""

    schedule: CallSchedule

    async def exec(self, ctx: Context, sent: Sent[NotificationRequest], /) -> Settled:
        req, outcome = sent.item, sent.outcome
        if outcome.delivered and req.channel is Channel.VOICE and outcome.call_outcome is None:
            return Settled(outputs=(park(req, outcome, ctx, self.schedule),))
        return settle(
            req.notification_id, req.order_id, req.channel, req.purpose, outcome, ctx.clock()
        )


@dataclass(frozen=True)
class SettleCall:
    """A call checked once: ended → its receipt; still ringing → parked again or timed out."""

    schedule: CallSchedule

    async def exec(self, ctx: Context, sent: Sent[PendingCall], /) -> Settled:
        call, checked = sent.item, sent.outcome
        placed = Outcome(True, call.attempts, call.call_id)
        if not sent.retry:
            outcome = (
                Outcome(True, call.attempts, call.call_id, "", checked.call_outcome)
                if checked.delivered
                else Outcome(False, call.attempts, call.call_id, f"call check: {checked.detail}")
            )
        elif timed_out(call, ctx.wall()):
            why = (
                "call still ringing at timeout"
                if checked.detail == "ringing"
                else f"call status unknown at timeout: {checked.detail}"
            )
            outcome = Outcome(True, placed.attempts, placed.message_id, why, "no_answer")
        else:
            return Settled(outputs=(park_again(call, checked, ctx, self.schedule),))
        return settle(
            call.notification_id, call.order_id, Channel.VOICE, call.purpose, outcome, ctx.clock()
        )
