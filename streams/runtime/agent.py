"""What an agent is: a verb of the flow, the topics it reads and a handler for each.

Where this sits: the contract between the runtime (:mod:`streams.runtime.wiring`,
which decodes each event once and runs every handler of its topic) and the
agents in :mod:`streams.runtime.agents`, one per hop of the flow (reading →
signal → alert → order → notification). A handler gets the decoded event and
where it came from, and returns a :class:`Result`: the outputs to publish, then
the state to commit once the broker has them, or the reason to dead-letter it.

>>> from schemas.registry import SIGNALS
>>> def build(ctx):
...     return {SIGNALS: lambda signal, source: Result()}
>>> agent = Agent("raise_alerts", build)
>>> agent.name
'raise_alerts'
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schemas import DeadLetterReason, Event
from schemas.registry import TopicSpec

if TYPE_CHECKING:
    from streams.runtime.context import Context


@dataclass
class Result:
    """What the core made of one event: outputs to publish, then state to commit.

    In an agent that leaves outputs in flight (:attr:`Agent.in_flight`) the commit
    runs at once, in memory, and its staged tables write it at the next checkpoint,
    once the broker has the outputs; elsewhere it runs once the outputs are
    acknowledged, and its tables write it at once.
    """

    outputs: Sequence[Event] = ()
    commit: Callable[[], None] | None = None
    dead_letter: tuple[DeadLetterReason, str] | None = None
    #: items of a batch record refused on their own: ``(item, reason, detail, index)``, the
    #: item's JSON as its dead letter's payload (the rest of the record goes on)
    refused: Sequence[tuple[bytes, DeadLetterReason, str, int]] = ()


@dataclass(frozen=True)
class Source:
    """Where an event was read: its (physical) topic, partition and offset."""

    topic: str
    partition: int
    offset: int


#: A handler takes the decoded event (the topic's schema) and its source.
Handler = Callable[[Any, Source], "Result | Awaitable[Result]"]
Handlers = Mapping[TopicSpec, Handler]


@dataclass(frozen=True)
class Agent:
    """One verb of the flow: its name and how to build its handlers from the context.

    ``build`` is called once per worker; the topics the agent reads are the keys
    of the mapping it returns, in order. ``in_flight``: its events' outputs are left
    in flight and its state staged until the checkpoint (:mod:`streams.runtime.checkpoint`),
    for the high-volume first hop, whose outputs every later hop takes once by id;
    else each event's outputs are awaited and its tables written at once, so a
    restart never publishes a later hop's record twice (an order, a breach).
    """

    name: str
    build: Callable[[Context], Handlers]
    in_flight: bool = False


def store(table: Any, key: str, new: Any, old: Any = None) -> Callable[[], None]:
    """A commit that writes ``new`` under ``key`` when it is set and differs from ``old``."""

    def commit() -> None:
        if new is not None and new != old:
            table[key] = new

    return commit


def store_all(table: Any, writes: Mapping[str, Any]) -> Callable[[], None]:
    """A commit that writes every value of ``writes`` (``None`` deletes the key)."""

    def commit() -> None:
        for key, value in writes.items():
            if value is not None:
                table[key] = value
            elif key in table:
                del table[key]

    return commit
