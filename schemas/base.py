"""The base every topic's event model shares: frozen, closed, versioned, timed.

Sits under every hop of the flow (reading → signal → alert → order →
notification). Strict validation means a downstream system gets exactly the
types the JSON Schema promises: no silent "12" → 12.0 coercion, no NaN.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

#: A stable identifier: printable, no spaces, bounded (it becomes a Kafka key).
Id = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/\-]+$")
]
#: A short bounded name (module, risk point, role, ...), safe as a metric label.
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_.\-]+$")]
#: Free text a person reads: bounded so one event cannot grow without limit.
Text = Annotated[str, StringConstraints(max_length=2000)]
#: Free-form labels (Alertmanager style), bounded in count by validators where used.
Labels = dict[
    Annotated[str, StringConstraints(max_length=64)],
    Annotated[str, StringConstraints(max_length=256)],
]


class Event(BaseModel):
    """Base of all topic events.

    Subclasses declare ``schema_version`` as a ``Literal`` so that a reader of
    version 1 rejects version 2 loudly instead of misreading it.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        ser_json_inf_nan="null",
    )

    @field_validator("schema_version", mode="before", check_fields=False)
    @classmethod
    def _version_is_an_integer(cls, v: object) -> object:
        # Literal[1] compares by equality, and True == 1: refuse what the schema calls no integer.
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError("schema_version must be an integer")
        return v

    event_time: AwareDatetime = Field(
        description="When the described thing happened (event time; UTC offset required)."
    )


def utc(dt: datetime) -> datetime:
    """Reject naive datetimes early, in core code as well as at the edge."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: event times must carry a UTC offset")
    return dt
