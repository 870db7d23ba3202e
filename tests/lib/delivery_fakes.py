"""Fakes for delivery's stages: a clock whose sleep moves it, scripted providers, examples."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas import Channel, NotificationRequest, PendingCall
from streams.core.notifications.stages import Answer, Context

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class FakeTime:
    """Wall clock and sleep in one: sleeping moves the clock, nothing waits."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.slept: list[float] = []

    def wall(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)

    def ctx(self, partition: int = 0) -> Context:
        return Context(partition, clock=self.wall, wall=self.wall, sleep=self.sleep)


def request(
    i: int = 0, channel: Channel = Channel.SMS, purpose: str = "dispatch"
) -> NotificationRequest:
    return NotificationRequest(
        event_time=T0,
        notification_id=f"ntf-{i}",
        idempotency_key=f"ntf-{i}",
        order_id=f"order-{i}",
        alert_id="alert-1",
        channel=channel,
        receiver="duty",
        purpose=purpose,
        message="gas at restaurant-7",
    )


def call(
    i: int = 0, purpose: str = "voice_call", give_up_s: float = 30.0, checks: int = 0
) -> PendingCall:
    return PendingCall(
        event_time=T0,
        notification_id=f"ntf-{i}",
        order_id=f"order-{i}",
        purpose=purpose,
        call_id=f"call-{i}",
        attempts=1,
        checks=checks,
        placed_at=T0,
        check_at=T0 + timedelta(seconds=0.1),
        give_up_at=T0 + timedelta(seconds=give_up_s),
    )


@dataclass
class Scripted:
    """A provider that answers from a script (the last answer repeats) and counts sends."""

    answers: Sequence[Answer]
    sends: list[int] = field(default_factory=list)

    async def exec(self, ctx: Context, item: object, /) -> Answer:
        self.sends.append(ctx.attempt)
        return self.answers[min(len(self.answers), len(self.sends)) - 1]


def run(coro: Any) -> Any:
    return asyncio.run(coro)
