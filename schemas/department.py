"""Department events: records from government departments, a first hop beside readings.

(**department event** → signal → alert → order → notification.) A fire
inspection result, a rental registration, a dispute call: the raw material of
"data collision" between departments.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.base import Event, Id, Name

AttributeValue = str | int | float | bool


class DepartmentEvent(Event):
    """One record from one department about one place or subject."""

    schema_version: Literal[1] = 1
    event_id: Id = Field(description="Unique id of this record, assigned by the department system.")
    department: Name = Field(description="Issuing department, e.g. 'fire', 'housing', 'police'.")
    event_type: Name = Field(description="Kind of record, e.g. 'inspection_failed'.")
    place_id: Id = Field(description="Where it happened; the topic key.")
    subject_id: Id | None = Field(
        default=None, description="Person, firm or flat concerned, if any."
    )
    attributes: dict[Annotated[str, StringConstraints(max_length=64)], AttributeValue] = Field(
        default_factory=dict, max_length=64, description="Record-specific fields."
    )
