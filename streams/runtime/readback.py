"""Reading our own output back: the SLA breaches already on the broker, per partition.

(order → **breach**.) Exactly one breach per (order, stage) across ``kill -9``:
the tracker publishes a breach, waits for the broker, and only then marks it in
its records. A crash between the two leaves a breach on the topic that the
records do not know; so before its first tick on a partition (after a start or a
rebalance) the worker reads that partition of ``yujing.sla-breaches.v1`` and
treats every breach id there as published. Breach ids are deterministic from
(order, stage), and the breaches topic is co-partitioned with the orders.
"""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.codec import DecodeError, decode
from schemas.order import SlaBreach
from schemas.registry import SLA_BREACHES
from streams.runtime.settings import Settings

log = logging.getLogger(__name__)


class BreachReadBack:
    """Breach ids known to be on each partition of the breaches topic (this process's view)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._known: dict[int, set[str]] = {}

    async def known(self, partition: int) -> set[str] | None:
        """The breach ids on ``partition`` (read once), or None if the broker cannot say yet."""
        found = self._known.get(partition)
        if found is not None:
            return found
        try:
            found = await self._read(partition)
        except Exception as err:  # the broker will answer later: the caller skips this tick
            log.warning("partition %d: cannot read back breaches yet: %r", partition, err)
            return None
        log.info("partition %d: %d breaches already published", partition, len(found))
        self._known[partition] = found
        return found

    def forget(self) -> None:
        """Another worker may publish there now (a rebalance): read back again."""
        self._known.clear()

    async def _read(self, partition: int) -> set[str]:
        s = self._settings
        tp = TopicPartition(s.topic(SLA_BREACHES.name), partition)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap.split(","),
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            **s.kafka_security.aiokafka(),
        )
        found: set[str] = set()
        try:  # a start that fails (no broker yet) must close the client too: one per tick
            await consumer.start()
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            consumer.seek(tp, 0)  # (seek_to_beginning lost to the 'latest' reset here)
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                for rec in batch.get(tp, []):
                    try:
                        found.add(decode(SlaBreach, rec.value).breach_id)
                    except DecodeError:
                        continue  # not ours to judge; the topic only carries our breaches
        finally:
            await consumer.stop()
        return found
