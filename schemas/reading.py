"""Sensor readings: the first hop of the flow (**reading** → signal → alert → order → notification).

One IoT measurement from one sensor at one place, as a sensor gateway publishes it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.base import Event, Id, Name


class SensorReading(Event):
    """One measurement from one sensor."""

    schema_version: Literal[1] = 1
    reading_id: Id = Field(description="Unique id of this reading, assigned by the gateway.")
    sensor_id: Id = Field(description="The sensor that measured it; the topic key.")
    sensor_kind: Name = Field(description="What it measures, e.g. 'gas_lel', 'water_level'.")
    place_id: Id = Field(description="Where the sensor is (grid cell or site id).")
    value: float = Field(description="The measured value, finite.")
    unit: str = Field(default="", max_length=16, description="Unit of value, e.g. '%LEL', 'm'.")
    values: dict[Annotated[str, StringConstraints(max_length=64)], float] = Field(
        default_factory=dict,
        max_length=16,
        description="Further channels of a multivariate sensor (name → finite value).",
    )
