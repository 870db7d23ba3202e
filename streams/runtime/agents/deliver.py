"""Agents ``deliver`` and ``follow_calls``: notifications → provider → receipts.

(order → notification → **provider** → receipt.) Thin adapters over the two
delivery chains of :mod:`streams.runtime.delivery`: ``deliver`` reads notification
requests (read back → dedup → retry(send) → settle); an SMS ends in its
receipt, a placed voice call is parked on the pending-calls topic, so a call
never holds the notifications behind it. ``follow_calls`` checks parked calls
when due and publishes each call's outcome once (a "needs help" answer also as
a ``help_requested`` update, before the receipt). A request still undelivered
after its last attempt gets a ``failed`` receipt and a dead letter
(``undeliverable``). Both share one ledger of receipted notifications.
"""

from __future__ import annotations

from schemas.registry import NOTIFICATIONS, PENDING_CALLS
from streams.runtime.agent import Agent, Handlers
from streams.runtime.context import Context
from streams.runtime.delivery import Delivery


def _delivery(ctx: Context) -> Delivery:
    def make() -> Delivery:
        router = ctx.config.router
        delivery = Delivery(
            ctx.settings, ctx.metrics, ctx.clock, lambda name: router.receiver(name).phone
        )
        ctx.on_shutdown(delivery.close)
        ctx.on_revoke(delivery.forget)
        return delivery

    return ctx.shared("delivery", make)


def build_deliver(ctx: Context) -> Handlers:
    d = _delivery(ctx)
    return {NOTIFICATIONS: lambda req, src: d.run(d.requests, ctx.send, src.partition, req)}


def build_follow_calls(ctx: Context) -> Handlers:
    d = _delivery(ctx)
    return {PENDING_CALLS: lambda call, src: d.run(d.calls, ctx.send, src.partition, call)}


DELIVER = Agent("deliver", build_deliver)
FOLLOW_CALLS = Agent("follow_calls", build_follow_calls)
