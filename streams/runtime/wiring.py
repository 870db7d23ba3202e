"""Wiring: exactly one Faust agent per input topic, however many hops read it.

Beside every hop of the flow: hops register *handlers* for the topics they
read, and :meth:`Wiring.build` makes one agent for each group of topics that
share a reader. Two Faust agents subscribed to one topic can deadlock a
rebalance: a message is acked only when every agent has taken it, and a
paused stream never does (measured: with two workers a reading stayed in
flight forever and the group never settled). Inside one agent the handlers
run one after the other, in registration order, for every event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import faust

from schemas.registry import TopicSpec

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline

Handler = Callable[[faust.EventT], Awaitable[None]]


@dataclass
class _Registration:
    name: str
    topics: tuple[str, ...]
    handler: Handler


@dataclass
class Wiring:
    pipe: Pipeline
    _regs: list[_Registration] = field(default_factory=list)
    built: bool = False

    def on(self, name: str, specs: Sequence[TopicSpec], handler: Handler) -> None:
        """Run ``handler`` for every event of these registry topics (in one agent with them)."""
        if self.built:
            raise RuntimeError("wiring already built: register handlers before build()")
        topics = tuple(self.pipe.settings.topic(s.name) for s in specs)
        self._regs.append(_Registration(name, topics, handler))

    def topics(self) -> list[str]:
        """Every topic some agent reads (physical names, prefix included)."""
        return list(dict.fromkeys(t for r in self._regs for t in r.topics))

    def groups(self) -> list[list[_Registration]]:
        """Registrations merged while they share a topic (connected components)."""
        groups: list[list[_Registration]] = []
        for reg in self._regs:
            touching = [g for g in groups if any(set(r.topics) & set(reg.topics) for r in g)]
            merged = [r for g in touching for r in g] + [reg]
            groups = [g for g in groups if g not in touching] + [merged]
        order = {id(r): i for i, r in enumerate(self._regs)}
        return sorted(
            ([*sorted(g, key=lambda r: order[id(r)])] for g in groups),
            key=lambda g: order[id(g[0])],
        )

    def build(self) -> None:
        for group in self.groups():
            self._agent(group)
        self.built = True

    def _agent(self, group: list[_Registration]) -> None:
        topics: list[str] = []
        for reg in group:
            topics.extend(t for t in reg.topics if t not in topics)
        by_topic: dict[str, list[Handler]] = {t: [] for t in topics}
        for reg in group:
            for t in reg.topics:
                by_topic[t].append(reg.handler)
        name = "+".join(dict.fromkeys(r.name for r in group))
        channel = self.pipe.app.topic(
            *topics,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=self.pipe.settings.partitions,
        )

        async def run(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                for handler in by_topic[event.message.topic]:
                    await handler(event)

        run.__name__ = run.__qualname__ = name.replace("+", "_and_")
        # concurrency 1: no offset is committed past an unfinished event (faust #606)
        self.pipe.app.agent(channel, name=name, concurrency=1)(run)
