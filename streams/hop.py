"""One hop of the flow as a Faust adapter: decode → core → emit → metric.

Every agent (detect, raise_alerts, dispatch, plan_notifications, deliver)
runs its events through :meth:`Hop.handle`. Nothing escapes it: bad bytes and
core failures become dead letters with the reason, the source position and the
original bytes, and the stream goes on. Outputs are awaited until the broker
has them, before the core's state is committed and the event acked.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from schemas import DeadLetter, DeadLetterReason, Event
from schemas.codec import DecodeError, decode, encode
from schemas.registry import DEAD_LETTERS, TopicSpec, spec_for
from streams.core.ids import stable_id

if TYPE_CHECKING:
    import faust

    from streams.app import Pipeline

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

    async def handle(self, event: faust.EventT, core: Core[E]) -> None:
        started = time.perf_counter()
        m = self.pipe.metrics
        if self.owns_input:
            m.events_in.labels(self.source.name).inc()
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
                await self.dead_letter(event, err.reason, err.detail)
            return
        try:
            result = core(model)
            if not isinstance(result, Result):
                result = await result
        except Exception as err:  # a core failure must not ack-and-lose the event
            log.exception("%s: processing failed", self.stage)
            await self.dead_letter(
                event, DeadLetterReason.PROCESSING_ERROR, f"{type(err).__name__}: {err}"
            )
            return
        if result.dead_letter is not None:
            await self.dead_letter(event, *result.dead_letter)
        await self.emit(result.outputs)
        if result.commit is not None:
            result.commit()
        m.stage_seconds.labels(self.stage).observe(time.perf_counter() - started)

    async def emit(self, outputs: Sequence[Event]) -> None:
        """Publish and wait until the broker acknowledges every output."""
        futures = []
        for out in outputs:
            spec = spec_for(out)
            fut = await self.pipe.topic(spec).send(
                key=spec.key_of(out), value=encode(out), force=True
            )
            futures.append((spec, out, fut))
        for spec, out, fut in futures:
            await fut
            self.pipe.metrics.observe_out(spec, out)

    async def dead_letter(self, event: faust.EventT, reason: DeadLetterReason, detail: str) -> None:
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
        await self.emit([dl])
        self.pipe.metrics.dead_letters.labels(reason.value, self.source.name).inc()


__all__ = ["DEAD_LETTERS", "Hop", "Result"]
