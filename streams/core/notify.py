"""Notification planning: a dispatch order becomes one request per channel.

(reading → signal → alert → order → **notification**.) Ids and idempotency
keys are deterministic, so a replayed order plans the very same requests and
the provider sees each key once. Phone numbers are masked for logs here too.
"""

from __future__ import annotations

from datetime import datetime

from schemas import DispatchOrder, NotificationRequest
from streams.core.ids import stable_id
from streams.core.routing import Router

PURPOSE_DISPATCH = "dispatch"


def plan(order: DispatchOrder, router: Router, now: datetime) -> list[NotificationRequest]:
    """One request per channel of the order, to its receiver."""
    receiver = router.receiver(order.receiver)
    signed_by = order.deadlines.get("signed")
    due = f" Sign for it by {signed_by:%Y-%m-%d %H:%M %Z}." if signed_by else ""
    message = f"yujing {order.sla_class.value} order {order.order_id}: {order.summary}{due}"
    out = []
    for channel in order.channels:
        nid = stable_id("ntf", order.order_id, channel.value, receiver.name, PURPOSE_DISPATCH)
        out.append(
            NotificationRequest(
                notification_id=nid,
                idempotency_key=nid,
                order_id=order.order_id,
                alert_id=order.alert_id,
                channel=channel,
                receiver=receiver.name,
                recipient=receiver.phone,
                purpose=PURPOSE_DISPATCH,
                message=message[:2000],
                event_time=now,
            )
        )
    return out


def mask_phone(number: str) -> str:
    """Keep the country/network prefix and the last two digits only.

    >>> mask_phone("+8613812345678")
    '+861********78'
    """
    if len(number) <= 6:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]
