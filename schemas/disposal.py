"""Internal events of automatic disposal: watching a sensor for an order, and what it saw.

(alert → **order** → notification, with the machine in the loop.) Readings are
keyed by sensor id, orders by order id, so the two sides talk through two
re-keyed topics: a watch request keyed by sensor id, and the sensor's health
keyed by order id. Both are internal, but schema'd and versioned like the rest.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.base import Event, Id, Name


class DisposalWatch(Event):
    """Start counting one sensor's healthy readings on behalf of one order."""

    schema_version: Literal[1] = 1
    watch_id: Id = Field(description="Deterministic from (order_id, sensor_id).")
    sensor_id: Id = Field(description="The topic key (co-partitioned with readings).")
    order_id: Id
    risk_point: Name
    healthy_readings: int = Field(ge=1)
    until: AwareDatetime = Field(description="Stop watching after this (the re-check time).")


class SensorHealth(Event):
    """A watched sensor crossed between 'recovered' and 'not recovered' for an order."""

    schema_version: Literal[1] = 1
    health_id: Id = Field(description="Deterministic from (order_id, sensor_id, reading_id).")
    order_id: Id = Field(description="The topic key (co-partitioned with orders).")
    sensor_id: Id
    recovered: bool = Field(description="True when the last N readings in a row were healthy.")
    healthy_streak: int = Field(ge=0)
    reading_id: Id = Field(description="The reading that made the change.")


class Tick(Event):
    """A heartbeat on one partition of the ticks topic; ``event_time`` is the clock's now.

    The SLA agent scans the deadlines stored for that partition on every tick.
    """

    schema_version: Literal[1] = 1
    partition: Name = Field(description="The partition it was sent to, as text; the topic key.")
