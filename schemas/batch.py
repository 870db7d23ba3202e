"""Gateway batches: many sensor readings in one record (**reading** → signal → ...).

A sensor gateway (an NB-IoT platform, a site's data logger) uploads what its
sensors measured since its last upload in one record, instead of one record per
reading. The readings inside are ordinary :class:`~schemas.reading.SensorReading`
events and go through the same detection as single readings; the batch only
saves the per-record cost of Kafka and the stream on the way in.

**The key keeps each sensor's state in its one partition.** A sensor's detector
state lives in the partition its id falls in (``yujing.readings.v1`` and the
re-check's ``yujing.disposal-watch.v1`` are keyed by ``sensor_id``). So a batch
holds the readings of sensors that fall in one partition, under Kafka's default
partitioner (murmur2 of the key, modulo the topic's partition count), and is keyed
by one of those sensors' ids (``sensor_group``, conventionally the first): it then
lands in that same partition. A gateway splits its upload by partition, as a Kafka
producer knows the partition count. Readings may come singly and in batches, mixed.
A reading in a batch of another partition is dead-lettered alone (``wrong_key``),
as is a reading that breaks its schema; the others go on
(:func:`schemas.codec.decode_items`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Event, Id
from schemas.reading import SensorReading

#: the most readings one batch record may carry
MAX_READINGS = 500


class ReadingBatch(Event):
    """Up to :data:`MAX_READINGS` readings uploaded together, of sensors of one partition."""

    schema_version: Literal[1] = 1
    batch_id: Id = Field(description="Unique id of this upload, assigned by the gateway.")
    gateway_id: Id = Field(description="The gateway that uploaded it.")
    sensor_group: Id = Field(
        description="The topic key: the id of one sensor in the batch (conventionally the "
        "first). Every sensor of the batch falls in the partition this key falls in, under "
        "Kafka's default partitioner, so each sensor's state stays in its own partition."
    )
    readings: list[SensorReading] = Field(
        min_length=1,
        max_length=MAX_READINGS,
        description="The readings, in the order the gateway took them. The batch's "
        "event_time is when it was uploaded.",
    )
