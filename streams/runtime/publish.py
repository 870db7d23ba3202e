"""Publishing from an agent: every output reaches the broker before its input counts as done.

Where this sits: under every hop of the flow (reading → signal → alert → order
→ notification), between an agent's :class:`~streams.runtime.agent.Result` and
Kafka. Outputs are sent to the topic the registry binds to their schema, keyed
by that topic's key field, as JSON, and counted as the broker acknowledges each;
:meth:`Publisher.deliver` waits for those acknowledgements (at the checkpoint,
:mod:`streams.runtime.checkpoint`, or at once for what must be on the broker
first). If the broker refuses one for good, the process stops at once: acking
the input now would lose the output, and a clean shutdown would commit its
offset; after a restart the input is read again.
Dead letters are built here too, with the reason, the source position and the
original bytes, bounded: at most ``max_payload`` of the value and ``MAX_KEY`` of
the key are copied (the dead letter must itself fit on the broker, whatever came
in: a record too large to dead-letter would stop the worker on every restart);
``payload_size``, ``key_size`` and ``payload_sha256`` describe the whole original.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import logging
import os
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import faust

from schemas import DeadLetter, DeadLetterReason, Event
from schemas.codec import encode
from schemas.registry import TopicSpec, spec_for
from streams.core.shared.ids import stable_id
from streams.runtime.agent import Source
from streams.runtime.metrics import Metrics

log = logging.getLogger(__name__)

#: The most key bytes a dead letter copies (keys are ids: far shorter when well formed).
MAX_KEY = 1024


@dataclass
class Pending:
    """Outputs handed to the producer whose delivery is not yet confirmed."""

    futures: list[tuple[TopicSpec, Event, Awaitable[object]]] = field(default_factory=list)


@dataclass
class Publisher:
    """Sends registry events to their topics and waits for the broker's acknowledgements."""

    topics: dict[str, faust.TopicT]
    metrics: Metrics

    async def send(self, outputs: Sequence[Event], pending: Pending) -> None:
        for out in outputs:
            spec = spec_for(out)
            fut = await self.topics[spec.name].send(
                key=spec.key_of(out), value=encode(out), force=True
            )
            assert isinstance(fut, asyncio.Future)  # Faust's FutureMessage is one
            fut.add_done_callback(functools.partial(self._count, spec, out))
            pending.futures.append((spec, out, fut))

    def _count(self, spec: TopicSpec, out: Event, fut: asyncio.Future[object]) -> None:
        """Count an output as its acknowledgement arrives, whoever awaits it and when."""
        if not fut.cancelled() and fut.exception() is None:
            self.metrics.observe_out(spec, out)

    async def deliver(self, pending: Pending, stage: str) -> None:
        """Wait for every output in flight; exit the process if one is refused for good."""
        futures, pending.futures = pending.futures, []
        for spec, _, fut in futures:
            try:
                await fut
            except Exception:  # pragma: no cover - needs a broker that fails for good
                log.critical("%s: output to %s not delivered; exiting to re-read", stage, spec.name)
                logging.shutdown()
                os._exit(70)

    async def publish(self, outputs: Sequence[Event], stage: str = "publish") -> None:
        """Send and wait: for outputs made outside an event (a tick's read-back, say)."""
        pending = Pending()
        await self.send(outputs, pending)
        await self.deliver(pending, stage)


def dead_letter(
    source: Source,
    key: Any,
    value: Any,
    reason: DeadLetterReason,
    detail: str,
    stage: str,
    now: datetime,
    max_payload: int,
    item: int | None = None,
) -> DeadLetter:
    """The dead letter for one input (or one ``item`` of a batch record): why, where it
    was read, and its original bytes."""
    raw = value if isinstance(value, bytes) else b""
    at = [] if item is None else [item]  # a batch's items each have an id of their own
    raw_key = key if isinstance(key, bytes) else None
    log.warning(
        "%s: dead-lettered %s[%d]@%d%s: %s: %s",
        stage,
        source.topic,
        source.partition,
        source.offset,
        "" if item is None else f" item {item}",
        reason.value,
        detail[:300],
    )
    return DeadLetter(
        dead_letter_id=stable_id("dl", source.topic, source.partition, source.offset, stage, *at),
        reason=reason,
        detail=detail[:2000],
        stage=stage,
        source_topic=source.topic,
        partition=source.partition,
        offset=source.offset,
        key_b64=base64.b64encode(raw_key[:MAX_KEY]).decode() if raw_key is not None else None,
        key_size=len(raw_key) if raw_key is not None else None,
        payload_b64=base64.b64encode(raw[:max_payload]).decode(),
        payload_size=len(raw),
        payload_sha256=hashlib.sha256(raw).hexdigest(),
        item=item,
        event_time=now,
    )
