"""JSON encoding and checked decoding of topic events (never pickle).

Used at every hop's edge: bytes from Kafka become a validated event, or a
:class:`DecodeError` whose ``reason`` names a dead-letter reason and whose
``detail`` says exactly which field was wrong.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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
    data = _bounded(data, max_bytes)
    try:
        return schema.model_validate_json(data)
    except ValidationError as err:
        raise _error(schema, err) from None


def _bounded(data: bytes | None, max_bytes: int) -> bytes:
    if data is None:
        raise DecodeError(DeadLetterReason.NOT_JSON, "empty message (null value)")
    if len(data) > max_bytes:
        raise DecodeError(
            DeadLetterReason.TOO_LARGE, f"{len(data)} bytes exceeds the limit of {max_bytes}"
        )
    return data


def _error(schema: type[Event], err: ValidationError) -> DecodeError:
    errors = err.errors(include_url=False)
    if errors and errors[0]["type"] == "json_invalid":
        return DecodeError(DeadLetterReason.NOT_JSON, errors[0]["msg"])
    return DecodeError(DeadLetterReason.SCHEMA, f"{schema.__name__}: {_describe(err)}")


@dataclass(frozen=True)
class BadItem:
    """One item of a record's list that is not a valid event: where, its bytes, why."""

    index: int
    raw: bytes
    error: DecodeError


def decode_items(
    schema: type[E],
    data: bytes | None,
    field: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    check: Callable[[Any], DecodeError | None] | None = None,
) -> tuple[E | None, list[BadItem]]:
    """Validate ``data`` as ``schema`` whose ``field`` is a list of events, item by item.

    A bad item does not spoil the record: the result holds the record with its good
    items only, and each bad one as a :class:`BadItem` (its index, its JSON bytes and
    its error, whose detail starts ``field[index]:``); ``None`` when no item is good.
    ``check(item)``, if given, judges each valid item further (an error, or ``None``).
    Anything wrong outside the items (the record's own fields, the list's length,
    the JSON itself) raises :class:`DecodeError` for the whole record.

    >>> from schemas.batch import ReadingBatch
    >>> good = ('{"reading_id": "r1", "sensor_id": "s1", "sensor_kind": "k", '
    ...         '"place_id": "p", "value": 1.0, "event_time": "2026-01-01T00:00:00Z"}')
    >>> bad = '{"reading_id": "r2", "sensor_id": "s2"}'
    >>> data = ('{"batch_id": "b1", "gateway_id": "g1", "sensor_group": "s1", '
    ...         f'"event_time": "2026-01-01T00:01:00Z", "readings": [{good}, {bad}]}}').encode()
    >>> batch, bad_items = decode_items(ReadingBatch, data, "readings")
    >>> [r.reading_id for r in batch.readings], [b.index for b in bad_items]
    (['r1'], [1])
    >>> bad_items[0].error.reason.value, bad_items[0].error.detail.split(";")[0]
    ('schema', 'readings[1]: SensorReading: event_time: Field required')
    """
    data = _bounded(data, max_bytes)
    try:
        record = schema.model_validate_json(data)
    except ValidationError as err:
        errors = err.errors(include_url=False)
        itemwise = errors and all(
            len(e["loc"]) >= 2 and e["loc"][0] == field and isinstance(e["loc"][1], int)
            for e in errors
        )
        if not itemwise:
            raise _error(schema, err) from None
        return _one_by_one(schema, data, field, max_bytes, check)
    if check is None:
        return record, []
    good: list[Any] = []
    bad: list[BadItem] = []
    for i, item in enumerate(getattr(record, field)):
        problem = check(item)
        if problem is None:
            good.append(item)
        else:
            bad.append(_bad(field, i, item.model_dump_json().encode(), problem))
    if not bad:
        return record, []
    return (record.model_copy(update={field: good}) if good else None), bad


def _bad(field: str, i: int, raw: bytes, err: DecodeError) -> BadItem:
    return BadItem(i, raw, DecodeError(err.reason, f"{field}[{i}]: {err.detail}"))


def _one_by_one(
    schema: type[E],
    data: bytes,
    field: str,
    max_bytes: int,
    check: Callable[[Any], DecodeError | None] | None,
) -> tuple[E | None, list[BadItem]]:
    """The slow path of :func:`decode_items`, for a record with bad items: each on its own."""
    obj = json.loads(data)  # valid JSON: pydantic parsed it
    item_schema = typing.get_args(schema.model_fields[field].annotation)[0]
    good: list[Any] = []
    bad: list[BadItem] = []
    for i, item in enumerate(obj[field]):
        raw = json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
        problem: DecodeError | None
        try:
            event = decode(item_schema, raw, max_bytes=max_bytes)
        except DecodeError as e:
            problem = e
        else:
            problem = check(event) if check is not None else None
        if problem is None:
            good.append(item)
        else:
            bad.append(_bad(field, i, raw, problem))
    if not good:
        return None, bad
    try:
        record = schema.model_validate_json(json.dumps({**obj, field: good}))
    except ValidationError as err:  # pragma: no cover - the items were each valid
        raise _error(schema, err) from None
    return record, bad
