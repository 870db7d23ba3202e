"""Notification planning: orders, breaches and escalations become channel requests.

(reading → signal → alert → order → **notification**.) Ids and idempotency
keys are deterministic, so a replayed order plans the very same requests and
the provider sees each key once. A request names its receiver, never a phone
number: delivery looks the number up (:func:`mask_phone` is what logs show of it).

- a person's order: one request per channel of the order, to its receiver;
- an auto-disposable order: an SMS reminder and a voice call to the party concerned;
- a failed machine re-check: the order goes to its receiver on its channels;
- an SLA breach: an SMS to the route's escalation contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from schemas import Channel, DispatchOrder, NotificationRequest, SlaBreach
from streams.core.orders.routing import Router
from streams.core.shared.directory import Party
from streams.core.shared.ids import stable_id

PURPOSE_DISPATCH = "dispatch"
PURPOSE_REMINDER = "reminder"
PURPOSE_VOICE_CALL = "voice_call"
PURPOSE_ESCALATED = "escalated_dispatch"
PURPOSE_ESCALATION = "escalation"


def _request(
    key_parts: tuple[object, ...],
    order_id: str,
    alert_id: str,
    channel: Channel,
    receiver: Party,
    purpose: str,
    message: str,
    now: datetime,
) -> NotificationRequest:
    nid = stable_id("ntf", *key_parts, channel.value, receiver.name, purpose)
    return NotificationRequest(
        notification_id=nid,
        idempotency_key=nid,
        order_id=order_id,
        alert_id=alert_id,
        channel=channel,
        receiver=receiver.name,
        purpose=purpose,
        message=message[:2000],
        event_time=now,
    )


def plan(order: DispatchOrder, router: Router, now: datetime) -> list[NotificationRequest]:
    """The first notifications of an order."""
    auto = order.auto_disposal
    if auto is not None:
        party = router.receiver(auto.party_concerned)
        sms = (
            f"yujing reminder, order {order.order_id}: {order.summary} Please deal with it "
            f"now; it will be re-checked at {auto.recheck_at:%Y-%m-%d %H:%M %Z}."
        )
        call = f"yujing call about order {order.order_id}: {order.summary}"
        return [
            _request(
                (order.order_id,),
                order.order_id,
                order.alert_id,
                Channel.SMS,
                party,
                PURPOSE_REMINDER,
                sms,
                now,
            ),
            _request(
                (order.order_id,),
                order.order_id,
                order.alert_id,
                Channel.VOICE,
                party,
                PURPOSE_VOICE_CALL,
                call,
                now,
            ),
        ]
    receiver = router.receiver(order.receiver)
    signed_by = order.deadlines.get("signed")
    due = f" Sign for it by {signed_by:%Y-%m-%d %H:%M %Z}." if signed_by else ""
    message = f"yujing {order.sla_class.value} order {order.order_id}: {order.summary}{due}"
    return [
        _request(
            (order.order_id,),
            order.order_id,
            order.alert_id,
            channel,
            receiver,
            PURPOSE_DISPATCH,
            message,
            now,
        )
        for channel in order.channels
    ]


def plan_escalated(
    order_id: str,
    alert_id: str,
    receiver_name: str,
    channels: Iterable[str],
    router: Router,
    now: datetime,
    help_requested: bool = False,
) -> list[NotificationRequest]:
    """The machine could not close the order: a person gets it now.

    One escalation per order (the id is keyed by the order), whether the re-check
    found the readings (or records) still abnormal or the party concerned asked for help.
    """
    receiver = router.receiver(receiver_name)
    why = (
        "the party concerned asked for help on the automatic call"
        if help_requested
        else "automatic disposal did not bring it back to normal"
    )
    message = f"yujing order {order_id}: {why}; it is yours now. Sign for it in the field app."
    return [
        _request(
            (order_id,), order_id, alert_id, Channel(c), receiver, PURPOSE_ESCALATED, message, now
        )
        for c in channels
    ]


def plan_breach(breach: SlaBreach, router: Router, now: datetime) -> list[NotificationRequest]:
    """An SMS to the escalation contact: one per breach, keyed by the breach id."""
    receiver = router.receiver(breach.escalate_to)
    message = (
        f"yujing SLA breach: order {breach.order_id} missed its '{breach.stage}' deadline "
        f"({breach.deadline:%Y-%m-%d %H:%M %Z}). Please intervene."
    )
    return [
        _request(
            (breach.breach_id,),
            breach.order_id,
            breach.alert_id,
            Channel.SMS,
            receiver,
            PURPOSE_ESCALATION,
            message,
            now,
        )
    ]


def mask_phone(number: str) -> str:
    """Keep the country/network prefix and the last two digits only.

    >>> mask_phone("+8613812345678")
    '+861********78'
    """
    if len(number) <= 6:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]
