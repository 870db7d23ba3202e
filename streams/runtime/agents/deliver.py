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

from schemas import Channel, DeadLetterReason, NotificationRequest
from schemas.registry import NOTIFICATIONS
from streams.core.notifications.receipts import receipt_outputs
from streams.core.notifications.retry import Backoff
from streams.runtime.agent import Agent, Handlers, Result, Source
from streams.runtime.context import Context
from streams.runtime.delivery import HttpProvider, VoiceProvider


def build(ctx: Context) -> Handlers:
    s = ctx.settings
    backoff = Backoff(base_s=s.delivery_backoff_s, max_attempts=s.delivery_max_attempts)
    providers: dict[Channel, HttpProvider] = {
        Channel.SMS: HttpProvider(s.sms_url, backoff, s.delivery_timeout_s),
        Channel.VOICE: VoiceProvider(s.voice_url, backoff, s.delivery_timeout_s),
    }
    for provider in providers.values():
        ctx.on_shutdown(provider.close)  # their HTTP sessions: else "Unclosed client session"

    async def on_request(req: NotificationRequest, _: Source) -> Result:
        provider = providers.get(req.channel)
        if provider is None:
            ctx.metrics.notifications.labels(req.channel.value, "no_provider").inc()
            why = f"no provider for {req.channel.value}"
            return Result(dead_letter=(DeadLetterReason.UNDELIVERABLE, why))
        outcome = await provider.deliver(req)
        outputs, dead = receipt_outputs(req, outcome, ctx.clock())
        status = "delivered" if outcome.delivered else "failed"
        ctx.metrics.notifications.labels(req.channel.value, status).inc()
        return Result(outputs=outputs, dead_letter=dead)

    return {NOTIFICATIONS: on_request}


AGENT = Agent("deliver", build)
