"""One hop of the flow: a decoded event through one agent's handler, safely.

Where this sits: inside every agent (reading → signal → alert → order →
notification), after :mod:`streams.runtime.wiring` has decoded the event once.
:meth:`Hop.run` calls the handler and acts on its
:class:`~streams.runtime.agent.Result`: a handler failure or a dead-letter
verdict becomes a dead letter with the reason, the source position and the
original bytes, and the stream goes on (an exception escaping an agent would
ack the message and lose it); the outputs are published, and the handler's
state is committed only once the broker has every output.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from schemas import DeadLetterReason, Event
from streams.runtime.agent import Handler, Result, Source
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
        publisher: Publisher,
        metrics: Metrics,
        clock: Clock,
        max_payload: int,
    ) -> None:
        self.stage = stage
        self.topic = topic  # the registry name: a bounded metric label
        self.handler = handler
        self._publisher = publisher
        self._metrics = metrics
        self._clock = clock
        self._max_payload = max_payload
        # a labelled child resolved once: .labels() per event is measurable on the hot path
        self._seconds = metrics.stage_seconds.labels(stage)

    async def run(self, model: Event, source: Source, key: Any, value: Any) -> None:
        """Handle one decoded event; return once every output is on the broker.

        A handler with a ``guard`` (a lock, see :meth:`streams.runtime.live.LiveTable.guarded`)
        runs under it from its first step to its state's commit."""
        guard = getattr(self.handler, "guard", None)
        if guard is None:
            await self._run(model, source, key, value)
            return
        async with guard:
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
            await self._publisher.deliver(pending, self.stage)
            return
        if result.dead_letter is not None:
            await self.dead_letter(source, key, value, *result.dead_letter, pending)
        await self._publisher.send(result.outputs, pending)
        await self._publisher.deliver(pending, self.stage)
        if result.commit is not None:
            result.commit()  # state moves on only once its outputs are safe
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

    async def deliver(self, pending: Pending) -> None:
        await self._publisher.deliver(pending, self.stage)

    def now(self) -> datetime:
        return self._clock()
