"""Notification delivery as composable stages, and the provider's ``(retry, outcome)`` contract.

The last hop of the flow (order → notification → **provider** → receipt). A
notification passes a chain of small stages, the way Alertmanager's notify
pipeline does: read back what is already receipted → dedup → retry(send) →
settle. Each stage is an object with ``async def exec(ctx, item)`` that returns
the item for the next stage, or ``None`` when nothing is left to do (a
duplicate, say); :class:`Chain` composes two stages into one.

A provider attempt never raises: it answers ``(retry, outcome)``. ``retry``
says whether another attempt may succeed; an outcome that ``delivered`` is final
whatever ``retry`` says. :func:`classify` is that contract for an HTTP answer:
200 with an id is delivered, a 4xx other than 429 is final, anything else
(429, 5xx, a body that is not JSON, a lost connection) is worth another try.

Pure: stages here sleep and read the clocks only through the :class:`Context`,
so tests run them without a network, a broker or real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar, overload

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")
F = TypeVar("F")
T = TypeVar("T")
In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)


def wall_now() -> datetime:
    """Wall-clock time: what a provider's call runs in (not the pipeline's simulated clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """What a stage may know about the event it handles, besides the event."""

    #: the input's partition: notifications, pending calls and receipts are co-partitioned
    partition: int
    #: the pipeline's clock (event times)
    clock: Callable[[], datetime] = wall_now
    #: wall-clock time (provider calls and call checks run in it)
    wall: Callable[[], datetime] = wall_now
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    #: which attempt of a retried send this is (1-based; set by the retry stage)
    attempt: int = 1


@dataclass(frozen=True)
class Outcome:
    """What one attempt, or a whole delivery, came to."""

    delivered: bool
    attempts: int = 1
    message_id: str | None = None
    detail: str = ""
    #: a voice call that has ended: how ('handled', 'needs_help', 'no_answer')
    call_outcome: str | None = None


#: a provider's answer to one attempt: (retry, outcome)
Answer = tuple[bool, Outcome]


@dataclass(frozen=True)
class Sent(Generic[T]):
    """An item and what sending it came to; ``retry`` is the last answer's."""

    item: T
    retry: bool
    outcome: Outcome


class Stage(Protocol[In, Out]):
    """One step of delivery: the item for the next stage, or None to stop here."""

    async def exec(self, ctx: Context, item: In, /) -> Out | None: ...


@dataclass(frozen=True)
class Chain(Generic[A, B, C]):
    """``first`` then ``then``; stops as soon as a stage returns None."""

    first: Stage[A, B]
    then: Stage[B, C]

    async def exec(self, ctx: Context, item: A, /) -> C | None:
        mid = await self.first.exec(ctx, item)
        return None if mid is None else await self.then.exec(ctx, mid)


@overload
def chain(s1: Stage[A, B], s2: Stage[B, C], /) -> Stage[A, C]: ...
@overload
def chain(s1: Stage[A, B], s2: Stage[B, C], s3: Stage[C, D], /) -> Stage[A, D]: ...
@overload
def chain(s1: Stage[A, B], s2: Stage[B, C], s3: Stage[C, D], s4: Stage[D, E], /) -> Stage[A, E]: ...
@overload
def chain(
    s1: Stage[A, B], s2: Stage[B, C], s3: Stage[C, D], s4: Stage[D, E], s5: Stage[E, F], /
) -> Stage[A, F]: ...
def chain(*stages: Stage[Any, Any]) -> Stage[Any, Any]:
    """Stages in order, as one stage (typed for up to five)."""
    if len(stages) < 2:
        raise ValueError("a chain needs at least two stages")
    composed: Stage[Any, Any] = stages[0]
    for stage in stages[1:]:
        composed = Chain(composed, stage)
    return composed


def final(answer: Answer) -> bool:
    """Whether an answer ends the retries: a delivery, or a provider that says it is final."""
    retry, outcome = answer
    return outcome.delivered or not retry


def classify(status: int, body: object, id_field: str) -> Answer:
    """One HTTP answer of a provider under the contract.

    >>> classify(200, {"message_id": "m-1"}, "message_id")
    (False, Outcome(delivered=True, attempts=1, message_id='m-1', detail='', call_outcome=None))
    >>> classify(400, {"error": "bad number"}, "message_id")[0]
    False
    >>> [classify(s, "<html>", "message_id")[0] for s in (429, 502)]
    [True, True]
    """
    if status == 200 and isinstance(body, dict) and body.get(id_field):
        return False, Outcome(True, message_id=str(body[id_field]))
    error = body.get("error") if isinstance(body, dict) else body
    detail = f"HTTP {status}: {error}"[:2000]
    client_error = 400 <= status < 500 and status != 429
    return not client_error, Outcome(False, detail=detail)


#: how a call can end (the provider's words, the same as ``schemas.CallOutcome``)
CALL_OUTCOMES = frozenset({"handled", "needs_help", "no_answer"})


def classify_call(status: int, body: object) -> Answer:
    """A provider's answer about a placed call: ended (final), still ringing or unknown (retry).

    >>> classify_call(200, {"status": "completed", "outcome": "needs_help"})[1].call_outcome
    'needs_help'
    >>> retry, outcome = classify_call(200, {"status": "ringing"})
    >>> retry, outcome.delivered, outcome.detail
    (True, False, 'ringing')
    >>> classify_call(404, {"error": "no call c-1"})[0]
    False
    """
    if status == 200 and isinstance(body, dict):
        if body.get("status") == "completed" and body.get("outcome") in CALL_OUTCOMES:
            return False, Outcome(True, call_outcome=str(body["outcome"]))
        return True, Outcome(False, detail=str(body.get("status", "no status"))[:200])
    return classify(status, body, "call_id")


def transport_error(err: BaseException) -> Answer:
    """No answer at all (timeout, refused connection, garbled body): worth another try."""
    return True, Outcome(False, detail=f"{type(err).__name__}: {err}"[:2000])
