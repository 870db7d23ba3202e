"""Receipts: what a delivery attempt's outcome becomes on the topics (notification → **receipt**).

A delivered or failed request gets a receipt with a deterministic id (so a
redelivered request publishes the same receipt); one that failed for good also
gets a dead letter with reason ``undeliverable``. A "needs help" answer to the
automatic call of an auto-disposal order also becomes a ``help_requested``
lifecycle update keyed by the order: a person takes it over at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas import (
    CallOutcome,
    DeadLetterReason,
    DispatchUpdate,
    Event,
    NotificationReceipt,
    NotificationRequest,
    OrderAction,
    ReceiptStatus,
)
from streams.core.notifications.plan import PURPOSE_VOICE_CALL
from streams.core.shared.ids import stable_id


@dataclass(frozen=True)
class Outcome:
    """How a delivery went: delivered or not, after how many attempts, and the call's answer."""

    delivered: bool
    attempts: int
    message_id: str | None
    detail: str
    call_outcome: str | None = None


def receipt_outputs(
    req: NotificationRequest, outcome: Outcome, now: datetime
) -> tuple[list[Event], tuple[DeadLetterReason, str] | None]:
    """The receipt (first), a help request if one was asked for, and the dead letter if any.

    >>> from schemas import Channel
    >>> from datetime import UTC
    >>> req = NotificationRequest(notification_id="n1", idempotency_key="k1", order_id="o1",
    ...     alert_id="a1", channel=Channel.SMS, receiver="grid_worker", recipient="+8613800000000",
    ...     purpose="dispatch", message="m", event_time=datetime(2026, 3, 2, tzinfo=UTC))
    >>> outputs, dead = receipt_outputs(req, Outcome(False, 5, None, "HTTP 503"), req.event_time)
    >>> outputs[0].status.value, dead[0].value
    ('failed', 'undeliverable')
    """
    status = ReceiptStatus.DELIVERED if outcome.delivered else ReceiptStatus.FAILED
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
        event_time=now,
    )
    outputs: list[Event] = [receipt]
    if receipt.call_outcome is CallOutcome.NEEDS_HELP and req.purpose == PURPOSE_VOICE_CALL:
        outputs.append(
            DispatchUpdate(
                update_id=stable_id("help", req.notification_id),
                order_id=req.order_id,
                action=OrderAction.HELP_REQUESTED,
                actor="voice-call",
                note="the party concerned answered the automatic call: needs help",
                event_time=now,
            )
        )
    if outcome.delivered:
        return outputs, None
    detail = f"gave up after {outcome.attempts} attempts: {outcome.detail}"
    return outputs, (DeadLetterReason.UNDELIVERABLE, detail)
