"""One hop of the flow as a Faust adapter: decode → core → emit → metric.

Every agent runs its events through :meth:`Hop.handle`. Nothing escapes them: bad bytes and core
failures become dead letters with the reason, the source position and the
original bytes, and the stream goes on. No input is acked before the broker
has acknowledged every output made from it; a delivery that fails for good
stops the process so that the input is read again after a restart.
"""

from __future__ import annotations

import base64
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from schemas import DeadLetter, DeadLetterReason, Event
from schemas.codec import DecodeError, decode, encode
from schemas.registry import DEAD_LETTERS, TopicSpec, spec_for
from streams.core.shared.ids import stable_id

if TYPE_CHECKING:
    import faust

    from streams.runtime.app import Pipeline

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)


@dataclass
class Result:
    """What the core made of one event: outputs to publish, then state to commit."""

    outputs: Sequence[Event] = ()
    commit: Callable[[], None] | None = None
    dead_letter: tuple[DeadLetterReason, str] | None = None


Core = Callable[[E], Awaitable[Result] | Result]


@dataclass
class Pending:
    """Outputs handed to the producer whose delivery is not yet confirmed."""

    futures: list[tuple[TopicSpec, Event, Awaitable[object]]] = field(default_factory=list)


@dataclass
class Hop(Generic[E]):
    pipe: Pipeline
    stage: str
    source: TopicSpec
    #: False for a second reader of a topic that another hop owns (e.g. readings,
    #: owned by ``detect``): its input is neither counted nor dead-lettered twice.
    owns_input: bool = True
    schema: type[E] = field(init=False)

    def __post_init__(self) -> None:
        self.schema = self.source.schema  # type: ignore[assignment]
        # labelled children resolved once: .labels() per event is measurable on the hot path
        self._events_in = self.pipe.metrics.events_in.labels(self.source.name)
        self._seconds = self.pipe.metrics.stage_seconds.labels(self.stage)

    async def handle(self, event: faust.EventT, core: Core[E]) -> None:
        """One event: process it, then wait until the broker has every output."""
        pending = Pending()
        await self._process(event, core, pending)
        await self._deliver(pending)

    async def _process(
        self,
        event: faust.EventT,
        core: Core[E],
        pending: Pending,
    ) -> None:
        started = time.perf_counter()
        if self.owns_input:
            self._events_in.inc()
        raw = event.value
        try:
            model = decode(self.schema, raw, max_bytes=self.pipe.settings.max_message_bytes)
            expected_key = self.source.key_of(model)
            if event.key != expected_key:
                raise DecodeError(
                    DeadLetterReason.WRONG_KEY,
                    f"key {event.key!r} but {self.source.key_field}={expected_key.decode()!r}: "
                    "producers must key this topic by that field",
                )
        except DecodeError as err:
            if self.owns_input:
                await self._send_dead_letter(event, err.reason, err.detail, pending)
            return
        try:
            result = core(model)
            if not isinstance(result, Result):
                result = await result
        except Exception as err:  # a core failure must not ack-and-lose the event
            log.exception("%s: processing failed", self.stage)
            await self._send_dead_letter(
                event, DeadLetterReason.PROCESSING_ERROR, f"{type(err).__name__}: {err}", pending
            )
            return
        if result.dead_letter is not None:
            await self._send_dead_letter(event, *result.dead_letter, pending)
        await self._send(result.outputs, pending)
        if result.commit is not None:
            await self._deliver(pending)  # state moves on only once its outputs are safe
            result.commit()
        self._seconds.observe(time.perf_counter() - started)

    async def emit(self, outputs: Sequence[Event]) -> None:
        """Publish and wait until the broker acknowledges every output."""
        pending = Pending()
        await self._send(outputs, pending)
        await self._deliver(pending)

    async def _send(self, outputs: Sequence[Event], pending: Pending) -> None:
        for out in outputs:
            spec = spec_for(out)
            fut = await self.pipe.topic(spec).send(
                key=spec.key_of(out), value=encode(out), force=True
            )
            pending.futures.append((spec, out, fut))

    async def _deliver(self, pending: Pending) -> None:
        """Wait for every output in flight. If the broker refuses one for good, stop the
        process at once: acking the input now would lose the output, and a clean shutdown
        would commit the offset; after a restart the input is read again."""
        futures, pending.futures = pending.futures, []
        for spec, out, fut in futures:
            try:
                await fut
            except Exception:  # pragma: no cover - needs a broker that fails for good
                log.critical(
                    "%s: output to %s not delivered; exiting to re-read", self.stage, spec.name
                )
                logging.shutdown()
                os._exit(70)
            self.pipe.metrics.observe_out(spec, out)

    async def dead_letter(self, event: faust.EventT, reason: DeadLetterReason, detail: str) -> None:
        pending = Pending()
        await self._send_dead_letter(event, reason, detail, pending)
        await self._deliver(pending)

    async def _send_dead_letter(
        self, event: faust.EventT, reason: DeadLetterReason, detail: str, pending: Pending
    ) -> None:
        msg = event.message
        raw = event.value if isinstance(event.value, bytes) else b""
        key = event.key if isinstance(event.key, bytes) else None
        dl = DeadLetter(
            dead_letter_id=stable_id("dl", msg.topic, msg.partition, msg.offset, self.stage),
            reason=reason,
            detail=detail[:2000],
            stage=self.stage,
            source_topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key_b64=base64.b64encode(key).decode() if key is not None else None,
            payload_b64=base64.b64encode(raw).decode(),
            payload_size=len(raw),
            event_time=self.pipe.clock(),
        )
        log.warning(
            "%s: dead-lettered %s[%d]@%d: %s: %s",
            self.stage,
            msg.topic,
            msg.partition,
            msg.offset,
            reason.value,
            detail[:300],
        )
        await self._send([dl], pending)
        self.pipe.metrics.dead_letters.labels(reason.value, self.source.name).inc()


__all__ = ["DEAD_LETTERS", "Hop", "Result"]
