"""Notification requests and their delivery receipts.

(reading → signal → alert → order → **notification**.) The router turns an
order into requests per channel; sinks (SMS, voice) answer with receipts.
``idempotency_key`` is what a provider uses to never send one message twice.
A voice call's outcome comes later: the call waits as a ``PendingCall``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.base import Event, Id, Name, Text


class Channel(StrEnum):
    SMS = "sms"
    VOICE = "voice"


class ReceiptStatus(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"


class CallOutcome(StrEnum):
    """How a voice call ended: the party handled it, asked for help, or did not answer."""

    HANDLED = "handled"
    NEEDS_HELP = "needs_help"
    NO_ANSWER = "no_answer"


class NotificationRequest(Event):
    """Send one message on one channel to one receiver.

    Version 2 carries no phone number: ``receiver`` names a contact (a fixed line
    of the routes or a party of the district's directory), and the number is looked
    up only when the message is handed to the provider. Version 1 carried the
    number in clear (``recipient``) and is retired with its topic.
    """

    schema_version: Literal[2] = 2
    notification_id: Id = Field(description="Deterministic; the topic key.")
    idempotency_key: Id = Field(description="Sent to the provider; equal keys are delivered once.")
    order_id: Id
    alert_id: Id
    channel: Channel
    receiver: Name = Field(
        description="The contact to reach: a routes receiver or a directory party "
        "('grid.<cell>', 'party.<site>', ...). Its number is resolved at delivery only."
    )
    purpose: Name = Field(description="Why: 'dispatch', 'escalation', 'reminder', ...")
    message: Text


class NotificationReceipt(Event):
    """What happened to one notification request."""

    schema_version: Literal[1] = 1
    receipt_id: Id = Field(description="Deterministic from notification_id and status.")
    notification_id: Id = Field(description="The topic key.")
    order_id: Id
    channel: Channel
    status: ReceiptStatus
    attempts: int = Field(ge=1)
    provider_message_id: str | None = Field(default=None, max_length=128)
    detail: Text = ""
    call_outcome: CallOutcome | None = Field(
        default=None, description="Voice only: the outcome of the interactive call."
    )


class PendingCall(Event):
    """Internal: a voice call the provider has placed whose outcome is not known yet.

    The deliver agent places the call and parks it here instead of polling it
    while its partition waits; ``follow_calls`` checks the call when
    ``check_at`` comes and either parks it again or publishes its receipt. Keyed
    by notification id, so it is co-partitioned with the notification and its
    receipt: whichever worker owns the partition after a restart or a
    rebalance resumes checking it. Times here are wall-clock (the provider's
    call runs in real time), ``event_time`` is the pipeline's clock.
    """

    schema_version: Literal[1] = 1
    notification_id: Id = Field(description="The topic key: the notification the call belongs to.")
    order_id: Id
    purpose: Name = Field(description="The notification's purpose ('voice_call', 'dispatch', ...).")
    call_id: str = Field(min_length=1, max_length=128, description="The provider's call id.")
    attempts: int = Field(ge=1, description="Attempts it took to place the call.")
    checks: int = Field(default=0, ge=0, description="Checks of the call made so far.")
    placed_at: AwareDatetime = Field(description="Wall-clock time the provider placed the call.")
    check_at: AwareDatetime = Field(description="Wall-clock time of the next check.")
    give_up_at: AwareDatetime = Field(
        description="Wall-clock time after which a call still ringing counts as 'no_answer'."
    )
    detail: Text = Field(default="", description="What the last check said.")
