"""Bulk table recovery (streams.runtime.restore), on a real pipeline's tables, without a broker.

The reference is Faust's own path for the same records: each decoded by the
changelog topic (``Topic.decode``) and applied by ``apply_changelog_batch``. The
bulk path must leave the table, its key partitions and the recovery offsets as
that path would, skip what Faust skips, and signal the end of the recovery when
nothing is left. The timing it was written for is chaos scenario T12
(tests/chaos/test_t12_recovery.py).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP, Message

from streams.runtime.app import Pipeline, create_pipeline
from streams.runtime.restore import BulkRestoringConsumer, restore_fetched
from streams.runtime.settings import Settings

TABLE = "sensor-detector-state"


@pytest.fixture
def pipe(tmp_path: Path) -> Pipeline:
    return create_pipeline(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path))


def record(offset: int, key: str, value: Any | None, raw: bytes | None = None) -> Any:
    """A fetched record as aiokafka gives it (what the restore reads of it)."""
    encoded = None if value is None else json.dumps(value).encode()
    return SimpleNamespace(
        offset=offset, key=json.dumps(key).encode(), value=raw or encoded, headers=()
    )


def recovering(pipe: Pipeline, tp: TP, highwater: int) -> Any:
    """Faust's recovery as it stands while it restores ``tp`` from its start."""
    recovery: Any = pipe.app.tables.recovery
    table = pipe.app.tables[TABLE]
    recovery.tp_to_table[tp] = table
    recovery.active_tps.add(tp)
    recovery.active_offsets[tp] = -1
    recovery.active_highwaters[tp] = highwater
    recovery.in_recovery = True
    return recovery


def faust_applies(pipe: Pipeline, tp: TP, records: list[Any]) -> dict[str, Any]:
    """What Faust's own recovery path leaves in the table for ``records``."""
    table: Any = pipe.app.tables[TABLE]
    topic = table.changelog_topic

    async def decode() -> list[Any]:
        events = []
        for r in records:
            message = Message(tp.topic, tp.partition, r.offset, 0.0, 0, {}, r.key, r.value, None)
            try:
                events.append(await topic.decode(message, propagate=True))
            except Exception:
                continue  # the conductor drops what does not decode
        return events

    table.apply_changelog_batch(asyncio.run(decode()))
    return dict(table.data.data)


BATCH = [
    record(0, "gas-1", '{"a":1}'),
    record(1, "gas-2", '{"b":2}'),
    record(2, "gas-1", '{"a":3}'),  # a later state of gas-1
    record(3, "gas-3", '{"c":4}'),
    record(4, "gas-3", None),  # a tombstone
    record(5, "gas-4", None, raw=b"{not json"),  # does not decode
    record(6, "gas-5", {"nested": [1, 2.5, None]}),
]


def test_a_batch_leaves_the_table_as_faust_s_own_path_would(tmp_path: Path) -> None:
    reference = create_pipeline(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path / "r"))
    bulk = create_pipeline(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path / "b"))
    changelog = bulk.app.tables[TABLE].changelog_topic.get_topic_name()
    tp = TP(changelog, 1)
    recovery = recovering(bulk, tp, highwater=6)
    rest = restore_fetched(bulk.app, {tp: BATCH}, None)
    assert rest == {}
    store: Any = bulk.app.tables[TABLE].data
    assert dict(store.data) == faust_applies(reference, tp, BATCH)
    assert dict(store.data) == {
        "gas-1": '{"a":3}',
        "gas-2": '{"b":2}',
        "gas-5": {"nested": [1, 2.5, None]},
    }
    assert dict(store._key_partition) == {"gas-1": 1, "gas-2": 1, "gas-5": 1}
    assert recovery.active_offsets[tp] == 6  # past the undecodable one, dropped as by Faust
    assert recovery.signal_recovery_end.is_set()  # nothing left: the recovery may end


def test_only_active_partitions_under_recovery_still_fetched_are_taken(pipe: Pipeline) -> None:
    changelog = pipe.app.tables[TABLE].changelog_topic.get_topic_name()
    active, standby, stream = TP(changelog, 0), TP(changelog, 1), TP("yujing.readings.v1", 0)
    recovery = recovering(pipe, active, highwater=100)
    recovery.tp_to_table[standby] = pipe.app.tables[TABLE]
    recovery.standby_tps.add(standby)
    records = {active: BATCH[:2], standby: BATCH[2:4], stream: [record(9, "r", "x")]}
    assert restore_fetched(pipe.app, records, None) == {
        standby: BATCH[2:4],
        stream: records[stream],
    }
    assert sorted(pipe.app.tables[TABLE].data.data) == ["gas-1", "gas-2"]
    # records left to go: the recovery goes on
    assert recovery.active_offsets[active] == 1 and not recovery.signal_recovery_end.is_set()
    # paused since the fetch (its recovery is over): handed over as before, not applied
    assert restore_fetched(pipe.app, {active: BATCH[3:4]}, {stream}) == {active: BATCH[3:4]}
    recovery.in_recovery = False  # no recovery: nothing is taken
    assert restore_fetched(pipe.app, {active: BATCH[3:4]}, None) == {active: BATCH[3:4]}
    assert recovery.active_offsets[active] == 1


def test_a_refetched_copy_is_not_applied_again(pipe: Pipeline) -> None:
    changelog = pipe.app.tables[TABLE].changelog_topic.get_topic_name()
    tp = TP(changelog, 0)
    recovery = recovering(pipe, tp, highwater=3)
    restore_fetched(pipe.app, {tp: BATCH[:3]}, None)
    pipe.app.tables[TABLE].data.data["gas-1"] = "changed since"
    restore_fetched(pipe.app, {tp: [*BATCH[:3], BATCH[3]]}, None)  # offsets 0-2 again, then 3
    assert pipe.app.tables[TABLE].data.data["gas-1"] == "changed since"
    assert pipe.app.tables[TABLE].data.data["gas-3"] == '{"c":4}'
    assert recovery.active_offsets[tp] == 3 and recovery.signal_recovery_end.is_set()


def test_the_worker_consumes_through_the_bulk_restoring_consumer(pipe: Pipeline) -> None:
    assert isinstance(pipe.app.consumer, BulkRestoringConsumer)
