"""Voice calls off the hot path: a placed call is parked, then checked when it is due.

(order → notification → **provider** → receipt.) Placing a call returns at
once; the call itself lasts seconds to minutes. Rather than poll it while the
notifications behind it wait, the deliver agent parks it as a ``PendingCall``
on an internal topic keyed like the notification, and ``follow_calls`` checks
it when its ``check_at`` comes: ended → its receipt; still ringing → parked
again with the next check time, until ``give_up_at`` (then it counts as no
answer). Durable without timers: the pending call is a record on a topic, so
a worker killed between placing the call and learning its outcome leaves it
there for whoever owns the partition next.

Checks are spaced by the same exponential backoff as retries, capped, so a
short call is learnt about quickly and a long one costs few checks. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas import NotificationRequest, PendingCall
from streams.core.notifications.retry import Backoff
from streams.core.notifications.stages import Context, Outcome


@dataclass(frozen=True)
class CallSchedule:
    """When to check a placed call, and when to stop waiting for it.

    >>> s = CallSchedule(checks=Backoff(base_s=0.1, factor=2.0, max_s=0.5), timeout_s=30)
    >>> [s.delay(n) for n in range(4)]
    [0.1, 0.2, 0.4, 0.5]
    """

    #: delay before check n+1 is ``checks.delay(n + 2)``: base, base·factor, ... up to max
    checks: Backoff = field(default_factory=lambda: Backoff(base_s=0.1, factor=1.5, max_s=1.0))
    #: a call still ringing this long after it was placed counts as 'no_answer'
    timeout_s: float = 30.0

    def delay(self, checks_done: int) -> float:
        """Seconds from now to the next check, after ``checks_done`` checks."""
        return self.checks.delay(checks_done + 2)

    @property
    def longest_wait_s(self) -> float:
        """The longest a due-time wait may last (a check_at further off is a skewed clock)."""
        return self.checks.max_s


def park(
    req: NotificationRequest, placed: Outcome, ctx: Context, schedule: CallSchedule
) -> PendingCall:
    """The call the provider just placed for ``req``, to be checked later."""
    if placed.message_id is None:
        raise ValueError("a placed call needs the provider's call id")
    now = ctx.wall()
    return PendingCall(
        notification_id=req.notification_id,
        order_id=req.order_id,
        purpose=req.purpose,
        call_id=placed.message_id,
        attempts=placed.attempts,
        checks=0,
        placed_at=now,
        check_at=now + timedelta(seconds=schedule.delay(0)),
        give_up_at=now + timedelta(seconds=schedule.timeout_s),
        detail="placed",
        event_time=ctx.clock(),
    )


def park_again(
    call: PendingCall, checked: Outcome, ctx: Context, schedule: CallSchedule
) -> PendingCall:
    """The same call after one more check that did not end it."""
    now = ctx.wall()
    checks = call.checks + 1
    return PendingCall.model_validate(
        {
            **call.model_dump(),
            "checks": checks,
            "check_at": now + timedelta(seconds=schedule.delay(checks)),
            "detail": checked.detail[:2000],
            "event_time": ctx.clock(),
        }
    )


def timed_out(call: PendingCall, now: datetime) -> bool:
    return now >= call.give_up_at


@dataclass(frozen=True)
class Wait:
    """Sleep until the call's check is due (at most ``longest_s``: clocks can disagree)."""

    longest_s: float

    async def exec(self, ctx: Context, call: PendingCall, /) -> PendingCall:
        delay = (call.check_at - ctx.wall()).total_seconds()
        if delay > 0:
            await ctx.sleep(min(delay, self.longest_s))
        return call
