"""Retry policy: exponential backoff with a cap, a bounded number of attempts, and the stage.

Used by the notification hop (order → notification → **provider**). Pure: the
policy says how long to wait before attempt n; :class:`Retry` runs a send
stage under it, sleeping through its :class:`~streams.core.notifications.stages.Context`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from streams.core.notifications.stages import Answer, Context, Outcome, Sent, Stage, final

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt ``n`` (1-based; attempt 1 has none).

    >>> b = Backoff(base_s=0.2, factor=2.0, max_s=1.0, max_attempts=5)
    >>> [b.delay(n) for n in range(1, 6)]
    [0.0, 0.2, 0.4, 0.8, 1.0]
    """

    base_s: float = 0.2
    factor: float = 2.0
    max_s: float = 30.0
    max_attempts: int = 5

    def delay(self, attempt: int) -> float:
        if attempt <= 1:
            return 0.0
        delay = self.base_s
        for _ in range(attempt - 2):  # multiply up to the cap: no float overflow
            delay *= self.factor
            if delay >= self.max_s:
                return float(self.max_s)
        return float(min(self.max_s, delay))


@dataclass(frozen=True)
class Retry(Generic[T]):
    """Send until an answer is final, at most ``backoff.max_attempts`` times.

    The outcome is the last answer's, with the attempts it took; ``retry`` in
    the result is still True when the attempts ran out on an answer that was
    worth another try. A send stage that stops the chain (None) stops it here too.
    """

    send: Stage[T, Answer]
    backoff: Backoff

    async def exec(self, ctx: Context, item: T, /) -> Sent[T] | None:
        answer: Answer = (True, Outcome(False, detail="no attempt made"))
        for attempt in range(1, max(1, self.backoff.max_attempts) + 1):
            await ctx.sleep(self.backoff.delay(attempt))
            got = await self.send.exec(replace(ctx, attempt=attempt), item)
            if got is None:
                return None
            retry, outcome = got
            answer = (retry, replace(outcome, attempts=attempt))
            if final(answer):
                break
        retry, outcome = answer
        return Sent(item, retry and not outcome.delivered, outcome)
