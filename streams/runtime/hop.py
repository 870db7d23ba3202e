"""One hop of the flow: a decoded event through one agent's handler, safely.

Where this sits: inside every agent (reading → signal → alert → order →
notification), after :mod:`streams.runtime.wiring` has decoded the event once.
:meth:`Hop.run` calls the handler and acts on its
:class:`~streams.runtime.agent.Result`: a handler failure or a dead-letter
verdict becomes a dead letter with the reason, the source position and the
original bytes, and the stream goes on (an exception escaping an agent would
ack the message and lose it); the outputs are handed to the producer and left in
flight, and the handler's state moves on in memory at once: it reaches a table's
changelog only at the next checkpoint, after the broker has every output
(:mod:`streams.runtime.checkpoint`); in a hop not in flight they are awaited
first, and the state moves on once the broker has them all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from schemas import DeadLetterReason, Event
from streams.runtime.agent import Handler, Result, Source
from streams.runtime.checkpoint import Checkpoint
from streams.runtime.context import Clock
from streams.runtime.metrics import Metrics
from streams.runtime.publish import Pending, Publisher, dead_letter

log = logging.getLogger(__name__)


class Hop:
    """One agent's handler of one topic, with its stage's metrics."""

    def __init__(
        self,
        stage: str,
        topic: str,
        handler: Handler,
        checkpoint: Checkpoint,
        metrics: Metrics,
        clock: Clock,
        max_payload: int,
    ) -> None:
        self.stage = stage
        self.topic = topic  # the registry name: a bounded metric label
        self.handler = handler
        self._checkpoint = checkpoint
        self._publisher: Publisher = checkpoint.publisher
        #: leave outputs in flight until the checkpoint (else await them per event)
        self.in_flight = True
        self._metrics = metrics
        self._clock = clock
        self._max_payload = max_payload
        # a labelled child resolved once: .labels() per event is measurable on the hot path
        self._seconds = metrics.stage_seconds.labels(stage)

    async def run(self, model: Event, source: Source, key: Any, value: Any) -> None:
        """Handle one decoded event: outputs published, state moved on (see the module).

        In flight it runs under the checkpoint's gate, so a checkpoint never sees half
        an event. A hop not in flight needs none: its event counts as processed (acked)
        only once it returns, its state written after its outputs are delivered; and it
        must not hold the other agents up while it waits for the broker."""
        if not self.in_flight:
            await self._run(model, source, key, value)
            return
        async with self._checkpoint.gate:
            await self._run(model, source, key, value)

    async def _run(self, model: Event, source: Source, key: Any, value: Any) -> None:
        started = time.perf_counter()
        pending = Pending()
        try:
            result = self.handler(model, source)
            if not isinstance(result, Result):
                result = await result
        except Exception as err:  # a core failure must not ack-and-lose the event
            log.exception("%s: processing failed", self.stage)
            reason, detail = DeadLetterReason.PROCESSING_ERROR, f"{type(err).__name__}: {err}"
            await self.dead_letter(source, key, value, reason, detail, pending)
            self._checkpoint.leave(pending)
            return
        if result.dead_letter is not None:
            await self.dead_letter(source, key, value, *result.dead_letter, pending)
        for item, reason, detail, index in result.refused:
            await self.dead_letter(source, key, item, reason, detail, pending, index)
        await self._publisher.send(result.outputs, pending)
        if not self.in_flight:
            await self._publisher.deliver(pending, self.stage)
        if result.commit is not None:
            result.commit()  # in memory; written at the checkpoint, after the outputs
        self._checkpoint.leave(pending)
        self._seconds.observe(time.perf_counter() - started)

    async def dead_letter(
        self,
        source: Source,
        key: Any,
        value: Any,
        reason: DeadLetterReason,
        detail: str,
        pending: Pending,
        item: int | None = None,
    ) -> None:
        dl = dead_letter(
            source, key, value, reason, detail, self.stage, self.now(), self._max_payload, item
        )
        await self._publisher.send([dl], pending)
        self._metrics.dead_letters.labels(reason.value, self.topic).inc()

    async def reject(
        self, source: Source, key: Any, bad: Sequence[tuple[Any, DeadLetterReason, str, int | None]]
    ) -> None:
        """Dead-letter input that never reached a handler: ``(value, reason, detail, item)``
        each (``item``: its index in a batch record, or ``None`` for the whole record)."""
        pending = Pending()
        if not self.in_flight:
            for value, reason, detail, item in bad:
                await self.dead_letter(source, key, value, reason, detail, pending, item)
            await self._publisher.deliver(pending, self.stage)
            return
        async with self._checkpoint.gate:
            for value, reason, detail, item in bad:
                await self.dead_letter(source, key, value, reason, detail, pending, item)
            self._checkpoint.leave(pending)

    def now(self) -> datetime:
        return self._clock()
