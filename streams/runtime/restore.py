"""Table recovery in bulk: a fetched batch of changelog records applied to its table at once.

Where this sits: under every agent that keeps state, between Kafka and the tables,
when a worker starts and after each rebalance, before any event flows. Faust
restores a table by passing each changelog record on its own through the conductor
(decoded into an event), the tables' changelog queue and its recovery loop, which
works out after every record whether the recovery is done: about 120 µs of CPU a
record on the 2-core test machine, and with the queue's default 4,096 records the
worker sat idle half of the time besides. A million sensors' states took 242 s to
restore (chaos scenario T12, ``docs/testing.md``); this way, about 20 s.

Here the worker's consumer (:class:`BulkRestoringConsumer`, the strict one of
:mod:`streams.runtime.consumer` otherwise) passes every fetched batch through
:func:`restore_fetched` before its drain loop hands anything over; the records of
each changelog partition under *active* recovery (and still being fetched) are
applied to their table a batch at a time, the way Faust's recovery loop applies
them, minus the per-record machinery:

- decoded by the changelog topic's own schema (Faust's serializers), a record
  that does not decode skipped, as Faust's conductor drops it;
- only records past the partition's recovery offset, which then moves to the
  last one (Faust's own bookkeeping: its highwater check, its stall warning and
  its log see it);
- applied by the table's store (``apply_changelog_batch``: the same tombstones,
  the same key partitions for the clean-up after the recovery);
- when no active partition has records left, the recovery is signalled complete,
  as Faust's loop signals it (else that loop would notice only on its next 5 s
  timeout).

Standby partitions, stores other than Faust's in-memory one and tables that hear
each changelog event keep Faust's own path. Faust's internals relied on are
pinned by ``tests/streams/runtime/test_consumer_internals.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from faust.serializers import codecs
from faust.stores.memory import Store as MemoryStore

from streams.runtime.consumer import StrictOffsetConsumer

log = logging.getLogger(__name__)


class BulkRestoringConsumer(StrictOffsetConsumer):
    """The strict consumer, whose fetched changelog records under recovery go to their
    tables in bulk (:func:`restore_fetched`) instead of through its drain loop."""

    async def _wait_next_records(self, timeout: float) -> tuple[Any, Any]:
        records, active = await super()._wait_next_records(timeout)
        return (restore_fetched(self.app, records, active) if records else records), active


def use_bulk_restore(app: Any) -> None:
    """Make ``app`` (its transport set by :func:`~streams.runtime.consumer.use_strict_offsets`)
    consume through :class:`BulkRestoringConsumer`; before it starts."""
    app.transport.Consumer = BulkRestoringConsumer


class _Message(NamedTuple):
    """What a store reads of a changelog event's message."""

    value: bytes | None
    partition: int
    offset: int


class _Event(NamedTuple):
    """A decoded changelog record, as ``apply_changelog_batch`` reads an event."""

    key: Any
    value: Any
    message: _Message


def restores_in_bulk(table: Any) -> bool:
    """Whether ``table``'s changelog may skip Faust's per-record path: an in-memory store
    and no callback for each changelog event."""
    return isinstance(table.data, MemoryStore) and not table._on_changelog_event


def restore_fetched(
    app: Any, records: Mapping[Any, Sequence[Any]], fetching: Collection[Any] | None
) -> Mapping[Any, Sequence[Any]]:
    """Apply the records of ``records`` that belong to changelog partitions under active
    recovery and still in ``fetching`` (the consumer's active partitions: one paused
    since the fetch is done); return the rest (streams, standbys, other tables)."""
    recovery = getattr(app.tables, "recovery", None)
    if recovery is None or not recovery.in_recovery:
        return records
    tables = recovery.tp_to_table
    mine = [
        tp
        for tp in records
        if tp in recovery.active_tps
        and (fetching is None or tp in fetching)
        and restores_in_bulk(tables[tp])
    ]
    if not mine:
        return records
    for tp in mine:
        apply_batch(app, recovery, tables[tp], tp, records[tp])
    if not recovery.need_recovery():
        recovery.flush_buffers()  # anything Faust's own loop holds (standbys)
        recovery.signal_recovery_end.set()
    return {tp: batch for tp, batch in records.items() if tp not in mine}


def apply_batch(app: Any, recovery: Any, table: Any, tp: Any, batch: Sequence[Any]) -> int:
    """Apply one partition's fetched ``batch`` to ``table``; how many records were applied.

    The events are made as the table's store takes them, each gone before the next:
    a list of a batch's events outlived the garbage collector's young generations,
    and the collections that promoted them cost 10 to 20 % of a million-key recovery's
    CPU."""
    offsets = recovery.active_offsets
    seen = offsets.get(tp)
    schema = table.changelog_topic.schema
    registry = app.serializers
    key_codec = schema.key_serializer or registry.key_serializer  # as the registry picks
    value_codec = schema.value_serializer or registry.value_serializer
    loads_key = _loads(registry.loads_key, schema.key_type, key_codec, registry.Model)
    loads_value = _loads(registry.loads_value, schema.value_type, value_codec, registry.Model)
    applied, last = 0, seen

    def events() -> Iterator[_Event]:
        nonlocal applied, last
        for record in batch:
            offset = record.offset
            if seen is not None and offset <= seen:
                continue  # applied already (a refetched copy)
            last = offset
            try:
                key = None if record.key is None else loads_key(record.key)
                value = None if record.value is None else loads_value(record.value)
            except Exception as exc:  # Faust's conductor drops a record it cannot decode
                log.warning(
                    "%s[%d] offset %d: changelog record skipped: %s",
                    tp.topic,
                    tp.partition,
                    offset,
                    exc,
                )
                continue
            applied += 1
            yield _Event(key, value, _Message(record.value, tp.partition, offset))

    table.apply_changelog_batch(events())
    if last is not None and last != seen:
        offsets[tp] = last
        recovery._active_events_received_at[tp] = time.monotonic()  # its stall warning
    return applied


def _loads(
    faust_loads: Callable[..., Any], typ: Any, serializer: Any, model: Any
) -> Callable[[bytes], Any]:
    """``faust_loads`` (the registry's ``loads_key`` or ``loads_value``) for one schema,
    resolved once. Without a type, all it does is the codec, then the model a payload
    may name (``model._maybe_reconstruct``); with one, it is called."""
    if typ is not None:
        return lambda raw: faust_loads(typ, raw, serializer=serializer)
    codec: Any = codecs.get_codec(serializer)
    reconstruct = model._maybe_reconstruct
    decode = codec.nodes[0]._loads if len(codec.nodes) == 1 else codec.loads  # one codec: its own
    return lambda raw: reconstruct(decode(raw))
