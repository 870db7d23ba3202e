"""JSON encoding and checked decoding of topic events (never pickle).

Used at every hop's edge: bytes from Kafka become a validated event, or a
:class:`DecodeError` whose ``reason`` names a dead-letter reason and whose
``detail`` says exactly which field was wrong.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError

from schemas.base import Event
from schemas.dead_letter import DeadLetterReason

E = TypeVar("E", bound=Event)

#: Default cap on one message's size; larger ones are dead-lettered unread.
DEFAULT_MAX_BYTES = 64 * 1024


class DecodeError(ValueError):
    """Bytes that are not a valid event of the expected schema."""

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


def encode(event: Event) -> bytes:
    """Serialize to compact JSON bytes."""
    return event.model_dump_json().encode()


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False)[:8]:
        loc = ".".join(str(p) for p in e["loc"]) or "<message>"
        parts.append(f"{loc}: {e['msg']}")
    more = err.error_count() - len(parts)
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


def decode(schema: type[E], data: bytes | None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> E:
    """Validate ``data`` as ``schema`` or raise :class:`DecodeError`.

    >>> from schemas.reading import SensorReading
    >>> decode(SensorReading, b"{oops")
    Traceback (most recent call last):
    ...
    schemas.codec.DecodeError: not_json: Invalid JSON: key must be a string at line 1 column 2
    """
    if data is None:
        raise DecodeError(DeadLetterReason.NOT_JSON, "empty message (null value)")
    if len(data) > max_bytes:
        raise DecodeError(
            DeadLetterReason.TOO_LARGE, f"{len(data)} bytes exceeds the limit of {max_bytes}"
        )
    try:
        return schema.model_validate_json(data)
    except ValidationError as err:
        errors = err.errors(include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise DecodeError(DeadLetterReason.NOT_JSON, errors[0]["msg"]) from None
        raise DecodeError(DeadLetterReason.SCHEMA, f"{schema.__name__}: {_describe(err)}") from None
