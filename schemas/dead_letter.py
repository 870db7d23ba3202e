"""Dead letters: what could not be processed, with why and the original bytes.

Beside every hop of the flow: nothing is dropped silently. An operator can
read the reason, fix the producer and replay ``payload_b64`` to the source topic.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from schemas.base import Event, Id, Text


class DeadLetterReason(StrEnum):
    """Bounded set of reasons (it is a metric label)."""

    NOT_JSON = "not_json"
    SCHEMA = "schema"
    TOO_LARGE = "too_large"
    PROCESSING_ERROR = "processing_error"
    UNDELIVERABLE = "undeliverable"
    WRONG_KEY = "wrong_key"
    #: A lifecycle update the order's state machine does not allow (e.g. arrived before signed).
    INVALID_TRANSITION = "invalid_transition"
    #: A lifecycle update for an order id this pipeline never dispatched.
    UNKNOWN_ORDER = "unknown_order"
    #: An event older than its window's allowed lateness (event time); never silently dropped.
    LATE = "late"
    #: An input's event time further ahead of the worker's clock than the allowed skew, or
    #: older than the configured horizon: it would move watermarks and windows wrongly.
    IMPLAUSIBLE_TIME = "implausible_time"
    #: An id already seen with other content (a reading, a record, a signal): the first
    #: content stands; the second is kept here rather than published under the same id.
    CONFLICT = "conflict"


class DeadLetter(Event):
    """``event_time`` is when the message was dead-lettered."""

    schema_version: Literal[1] = 1
    dead_letter_id: Id = Field(
        description="Deterministic from source topic, partition and offset (and item)."
    )
    reason: DeadLetterReason
    detail: Text = Field(description="Human-readable error, e.g. the failing fields.")
    stage: str = Field(max_length=64, description="Agent that rejected it.")
    source_topic: str = Field(max_length=249)
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key_b64: str | None = Field(
        default=None,
        description="Original key bytes, base64; at most the first 1024 of them (compare "
        "key_size).",
    )
    payload_b64: str = Field(
        description="Original value bytes, base64; at most the first YUJING_MAX_MESSAGE_BYTES "
        "of them (compare payload_size).",
    )
    payload_size: int = Field(ge=0)
    payload_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 (hex) of the whole original value, so a truncated payload can "
        "still be matched to its original.",
    )
    key_size: int | None = Field(default=None, ge=0, description="Original key's size in bytes.")
    item: int | None = Field(
        default=None,
        ge=0,
        description="For one bad item of a batch record (a reading in a gateway batch): its "
        "index in the record's list; payload_b64 is then that item's JSON. None: the whole "
        "record.",
    )
