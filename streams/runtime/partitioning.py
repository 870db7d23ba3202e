"""Which partition a key falls in: Kafka's default partitioner, for checks and producers.

Beside the first hop (**reading** → signal): a gateway batch must hold the sensors
of one partition (:mod:`schemas.batch`); the worker checks each reading against the
partition its batch was read from (:mod:`streams.runtime.wiring`), and the tools
that write batches split a gateway's readings by it (:mod:`streams.tools.gateway`).
Both use the partitioner every Kafka client uses by default for a keyed record:
murmur2 of the key bytes, its sign bit cleared, modulo the partition count (the Java
client, kafka-python and aiokafka agree; kcat's default differs).

>>> partition_of(b"gas-0001", 2), partition_of(b"gas-0002", 2)
(1, 0)
>>> partition_of(b"gas-0001", 1)
0
"""

from __future__ import annotations

import functools

from kafka.partitioner.default import murmur2


@functools.lru_cache(maxsize=1 << 18)
def partition_of(key: bytes, partitions: int) -> int:
    """The partition of ``key`` among ``partitions`` (cached: a sensor's is asked often)."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
