"""Wiring: each event decoded once, then handed to every agent that reads its topic.

Where this sits: between Kafka and every agent of the flow (reading → signal →
alert → order → notification). Agents declare the topics they read
(:class:`~streams.runtime.agent.Agent`); the wiring makes exactly one Faust agent
per group of topics that share a reader. Two Faust agents subscribed to one
topic can deadlock a rebalance: a message is acked only when every agent has
taken it, and a paused stream never does (measured: with two workers a reading
stayed in flight forever and the group never settled). For every event the
wiring decodes the value once with the topic's schema, checks its key and, for
input from outside the pipeline, that its event time is plausible
(:mod:`streams.core.shared.eventtime`; bad input goes to the dead-letter topic
once, whoever reads it), then runs each
handler of that topic in declaration order through its
:class:`~streams.runtime.hop.Hop`. Each Faust agent runs with concurrency 1, so
no offset is committed past an unfinished event (faust-streaming #606).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import faust

from schemas import DeadLetterReason
from schemas.codec import DecodeError, decode, decode_items
from schemas.registry import BY_SCHEMA, TOPICS, TopicSpec
from streams.runtime.agent import Agent, Handlers, Source
from streams.runtime.hop import Hop
from streams.runtime.partitioning import partition_of

HopFactory = Callable[[str, TopicSpec, Any, bool], Hop]
#: Why an input's event time is not to be believed now (a dead-letter detail), or None.
TimeJudge = Callable[[datetime], str | None]


def any_time(_: datetime) -> str | None:
    return None


def judged(check: Callable[[Any], DecodeError | None], judge: TimeJudge) -> Callable[[Any], Any]:
    """``check`` of a batch's items, and then the plausibility of each item's event time."""

    def both(item: Any) -> DecodeError | None:
        problem = check(item)
        if problem is not None:
            return problem
        why = judge(item.event_time)
        return None if why is None else DecodeError(DeadLetterReason.IMPLAUSIBLE_TIME, why)

    return both


@functools.lru_cache(maxsize=1024)
def same_partition(spec: TopicSpec, partition: int, partitions: int) -> Callable[[Any], Any]:
    """A check for the items of ``spec``'s records read from ``partition``: an item whose
    own topic's key falls in another partition is refused (``wrong_key``), so a key's
    state stays in one partition whichever way its events come."""
    item_spec = BY_SCHEMA[_item_schema(spec)]

    def check(item: Any) -> DecodeError | None:
        key = item_spec.key_of(item)
        home = partition_of(key, partitions)
        if home == partition:
            return None
        return DecodeError(
            DeadLetterReason.WRONG_KEY,
            f"{item_spec.key_field}={key.decode()!r} falls in partition {home} of "
            f"{partitions}, this record was in {partition}: batch only the sensors of one "
            "partition, keyed by one of them",
        )

    return check


def _item_schema(spec: TopicSpec) -> Any:
    assert spec.items is not None
    return typing.get_args(spec.schema.model_fields[spec.items].annotation)[0]


def stage_name(agent: str, spec: TopicSpec, handlers: Handlers) -> str:
    """The stage an agent's handler of one topic is known by (dead letters, metrics, logs).

    An agent's first input (its main one) goes by the agent's name; any other by
    ``agent.<topic>`` (``track_orders.dispatch-updates``), so an operator reading a
    dead letter or a ``yujing_stage_seconds`` series sees which input it came from.

    >>> from schemas.registry import DISPATCH_UPDATES, DISPOSAL_WATCH, READINGS
    >>> both = {READINGS: None, DISPOSAL_WATCH: None}
    >>> stage_name("detect", READINGS, both), stage_name("detect", DISPOSAL_WATCH, both)
    ('detect', 'detect.disposal-watch')
    """
    if spec == next(iter(handlers)):
        return agent
    return f"{agent}.{spec.name.split('.')[1]}"


@dataclass
class _Topic:
    spec: TopicSpec
    hops: list[Hop] = field(default_factory=list)


@dataclass
class Wiring:
    """The agents of one worker, by the physical topics they read."""

    app: faust.App
    topic_of: Callable[[str], str]  # registry name → physical topic name
    make_hop: HopFactory
    max_message_bytes: int
    max_batch_bytes: int  # a record of a topic whose items are events (gateway batches)
    partitions: int  # of every topic: where a batch's items must fall
    on_event: Callable[[str], None]  # counts an event read from a registry topic
    #: judges the event time of input from outside (``TopicSpec.external``)
    judge_time: TimeJudge = any_time
    agents: list[str] = field(default_factory=list)
    _topics: dict[str, _Topic] = field(default_factory=dict)
    _readers: dict[str, list[str]] = field(default_factory=dict)
    built: bool = False

    def add(self, agent: Agent, handlers: Handlers) -> None:
        """Run ``handlers`` (topic → handler) for ``agent`` on every event of those topics."""
        if self.built:
            raise RuntimeError("wiring already built: add agents before build()")
        self.agents.append(agent.name)
        for spec, handler in handlers.items():
            if spec.name not in TOPICS:
                raise KeyError(f"{agent.name}: {spec.name} is not a registry topic")
            topic = self._topics.setdefault(self.topic_of(spec.name), _Topic(spec))
            stage = stage_name(agent.name, spec, handlers)
            topic.hops.append(self.make_hop(stage, spec, handler, agent.in_flight))
            self._readers.setdefault(self.topic_of(spec.name), []).append(agent.name)

    def topics(self) -> list[str]:
        """Every topic some agent reads (physical names, prefix included)."""
        return list(self._topics)

    def groups(self) -> list[list[str]]:
        """Topics merged while they share a reader (connected components), in order."""
        groups: list[list[str]] = []
        for topic, readers in self._readers.items():
            touching = [g for g in groups if any(set(self._readers[t]) & set(readers) for t in g)]
            merged = [t for g in touching for t in g] + [topic]
            groups = [g for g in groups if g not in touching] + [merged]
        order = list(self._readers)
        return sorted((sorted(g, key=order.index) for g in groups), key=lambda g: order.index(g[0]))

    def build(self) -> None:
        for group in self.groups():
            self._agent(group)
        self.built = True

    def _agent(self, topics: list[str]) -> None:
        names = list(dict.fromkeys(n for t in topics for n in self._readers[t]))
        name = "+".join(names)
        channel = self.app.topic(
            *topics,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )
        process = self.process

        async def run(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                await process(event.message.topic, event.message, event.key, event.value)

        run.__name__ = run.__qualname__ = "_and_".join(names)
        # concurrency 1: no offset is committed past an unfinished event (faust #606)
        self.app.agent(channel, name=name, concurrency=1)(run)

    async def process(self, topic: str, message: Any, key: Any, value: Any) -> None:
        """One event: decode it once, then every handler of its topic, in order."""
        entry = self._topics[topic]
        spec = entry.spec
        self.on_event(spec.name)
        source = Source(topic, message.partition, message.offset)
        first = entry.hops[0]
        try:
            if spec.items is None:
                model = decode(spec.schema, value, max_bytes=self.max_message_bytes)
                self._judge(spec, model)
            else:
                check = same_partition(spec, message.partition, self.partitions)
                found, bad = decode_items(
                    spec.schema,
                    value,
                    spec.items,
                    max_bytes=self.max_batch_bytes,
                    check=judged(check, self.judge_time) if spec.external else check,
                )
                if found is not None:
                    self._judge(spec, found)  # the record's own time: all of it goes
                if bad:  # each bad item on its own; the good ones go on
                    errors = [(b.raw, b.error.reason, b.error.detail, b.index) for b in bad]
                    await first.reject(source, key, errors)
                if found is None:
                    return
                model = found
            expected = spec.key_of(model)
            if key != expected:
                raise DecodeError(
                    DeadLetterReason.WRONG_KEY,
                    f"key {key!r} but {spec.key_field}={expected.decode()!r}: "
                    "producers must key this topic by that field",
                )
        except DecodeError as err:
            await first.reject(source, key, [(value, err.reason, err.detail, None)])
            return
        for hop in entry.hops:
            await hop.run(model, source, key, value)

    def _judge(self, spec: TopicSpec, model: Any) -> None:
        if spec.external:
            why = self.judge_time(model.event_time)
            if why is not None:
                raise DecodeError(DeadLetterReason.IMPLAUSIBLE_TIME, why)
