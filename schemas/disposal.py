"""Internal events of automatic disposal: an order watches a sensor or a place; the verdict.

(alert → **order** → notification, with the machine in the loop.) Readings are
keyed by sensor id, department records by place id, orders by order id, so the
sides talk through re-keyed topics: a watch request keyed by sensor id (or by
place id, for a risk point fed by department records), and the verdict keyed
by order id. All are internal, but schema'd and versioned like the rest.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.base import Event, Id, Name


class DisposalWatch(Event):
    """Follow one sensor's re-check on behalf of one order: N healthy readings in a row, or
    healthy for T seconds (at least one healthy reading)."""

    schema_version: Literal[1] = 1
    watch_id: Id = Field(description="Deterministic from (order_id, sensor_id).")
    sensor_id: Id = Field(description="The topic key (co-partitioned with readings).")
    order_id: Id
    risk_point: Name
    healthy_readings: int = Field(ge=1)
    healthy_for_s: float | None = Field(
        default=None,
        gt=0,
        description="Or healthy for this many seconds: the latest reading healthy, at least "
        "this long after the last unhealthy one (or the alarm). None: readings alone count.",
    )
    until: AwareDatetime = Field(description="Stop watching after this (the re-check time).")
    since: AwareDatetime | None = Field(
        default=None,
        description="The alarm: event time of the reading that raised it. The re-check "
        "judges the readings after it. None: the sensor's latest alarm.",
    )


class PlaceWatch(Event):
    """Follow one place's re-check on behalf of one order: have its department records stopped?

    For a risk point fed by department records (a rate of complaints, a
    collision of two departments' records), keyed by place like the records.
    """

    schema_version: Literal[1] = 1
    watch_id: Id = Field(description="Deterministic from (order_id, place_id).")
    place_id: Id = Field(description="The topic key (co-partitioned with department events).")
    order_id: Id
    risk_point: Name
    until: AwareDatetime = Field(description="Stop watching after this (the re-check time).")
    quiet_from: AwareDatetime = Field(
        description="The records have stopped if none judged unhealthy has an event time from "
        "here on: the middle of the re-check delay (the party concerned, told at the order's "
        "creation, has the first half to act)."
    )
    since: AwareDatetime | None = Field(
        default=None,
        description="The alarm: event time of the record that raised it; the re-check judges "
        "the records after it. None: the place's latest alarm.",
    )


class SensorHealth(Event):
    """A watched sensor or place crossed between 'recovered' and 'not recovered' for an order.

    Recovered is the risk point's detector's own judgement (``Detector.recheck_one``
    against its trigger's clear level): a sensor after N healthy readings in a
    row; a place while no department record since the order was judged unhealthy.
    """

    schema_version: Literal[1] = 1
    health_id: Id = Field(description="Deterministic from (order_id, sensor_id, reading_id).")
    order_id: Id = Field(description="The topic key (co-partitioned with orders).")
    sensor_id: Id = Field(description="What was watched: a sensor id, or a place id (``watched``).")
    watched: Literal["sensor", "place"] = Field(
        default="sensor", description="Whether ``sensor_id`` names a sensor or a place."
    )
    recovered: bool = Field(description="The verdict now.")
    healthy_streak: int = Field(
        ge=0, description="Healthy readings (or records) in a row since the last unhealthy one."
    )
    reading_id: Id | None = Field(
        default=None,
        description="The reading or record that made the change; none when the watch started "
        "with this verdict (e.g. no record at the place since the order).",
    )


class Tick(Event):
    """A heartbeat on one partition of the ticks topic; ``event_time`` is the clock's now.

    The SLA agent scans the deadlines stored for that partition on every tick.
    """

    schema_version: Literal[1] = 1
    partition: Name = Field(description="The partition it was sent to, as text; the topic key.")
