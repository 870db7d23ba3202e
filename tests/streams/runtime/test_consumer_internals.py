"""The faust-streaming and aiokafka internals streams.runtime.consumer relies on, pinned.

streams.runtime.consumer replaces Faust's drain loop and commit decisions; it reads and
writes private attributes and relies on the order in which Faust's recovery
resumes, seeks and clears. streams.runtime.restore applies a changelog under recovery
to its table in Faust's stead, with Faust's recovery bookkeeping. An upgrade that
changes any of these must fail here, before it can lose a record or a table's
state, not in production. pyproject.toml pins the exact versions these checks
were written against.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiokafka
import pytest
from faust.serializers.codecs import Codec
from faust.stores.memory import Store as MemoryStore
from faust.tables.base import Collection
from faust.tables.recovery import Recovery
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.runtime.app import create_pipeline
from streams.runtime.settings import Settings

PINNED = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}


@pytest.mark.parametrize(("package", "expected"), sorted(PINNED.items()))
def test_the_installed_version_is_the_one_the_consumer_was_checked_against(
    package: str, expected: str
) -> None:
    assert version(package) == expected


def _pyproject_pins() -> dict[str, str]:
    text = (Path(__file__).parents[3] / "pyproject.toml").read_text()
    return {
        name: text.split(f'"{name}==', 1)[1].split('"', 1)[0] for name in PINNED if name in text
    }


def test_pyproject_pins_exactly_those_versions() -> None:
    assert _pyproject_pins() == PINNED


def test_faust_calls_the_consumer_drain_loop_with_the_fetcher() -> None:
    source = inspect.getsource(faust_consumer.Fetcher)
    assert "consumer._drain_messages(self)" in source


def test_faust_resumes_the_flow_after_it_seeks_at_the_end_of_a_rebalance() -> None:
    # the order behind issue 9: resume partitions, seek, then resume the flow
    # (which clears the streams' buffers) and end the rebalance last
    source = inspect.getsource(Recovery.on_recovery_completed)
    steps = [
        "consumer.resume_partitions(",
        "consumer.perform_seek()",
        "self.app.flow_control.resume()",
        "self.app.on_rebalance_end()",
    ]
    positions = [source.index(step) for step in steps]
    assert positions == sorted(positions)


def test_aiokafka_does_not_seek_a_partition_committed_at_zero() -> None:
    source = inspect.getsource(aiokafka.AIOKafkaConsumer.seek_to_committed)
    assert "if offset and offset > 0:" in source


def test_the_consumer_attributes_used_exist(tmp_path: Path) -> None:
    pipe = create_pipeline(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path))
    consumer: Any = pipe.app.consumer
    for name in (
        "_committed_offset",
        "_acked",
        "_acked_index",
        "_unacked_messages",
        "_buffered_partitions",
        "_commit_every",
        "_n_acked",
        "scheduler",
        "callback",
        "suspend_flow",
        "flow_active",
        "diag",
    ):
        assert hasattr(consumer, name), name
    assert hasattr(pipe.app.topics, "_topic_name_index")
    assert hasattr(pipe.app.topics, "_acking_topics")
    assert hasattr(pipe.app.flow_control, "_queues")
    signatures = {
        "_wait_next_records": ["timeout"],
        "_to_message": ["tp", "record"],
        "_new_offset": ["tp"],
        "_add_gap": ["tp", "offset_from", "offset_to"],
        "seek_wait": ["partitions"],
        "seek": ["partition", "offset"],
        # the commit, rebuilt around the checkpoint from Faust's own steps
        "_commit_tps": ["tps", "start_new_transaction"],
        "_filter_committable_offsets": ["tps"],
        "_handle_attached": ["commit_offsets"],
        "_commit_offsets": ["offsets", "start_new_transaction"],
    }
    for method, params in signatures.items():
        base = getattr(faust_aiokafka.Consumer, method)
        assert list(inspect.signature(base).parameters)[1:] == params, method


def test_faust_s_recovery_loop_applies_what_the_bulk_restore_mirrors() -> None:
    # streams.runtime.restore does what this loop does for an active partition, in bulk:
    # the same offset check and bookkeeping, the table's own apply, the same end signal
    slurp = inspect.getsource(Recovery._slurp_changelogs.fun)  # a service task
    for step in (
        "if seen_offset is None or offset > seen_offset:",
        "offsets[tp] = offset",
        "active_events_received_at[tp] = now",
        "table.apply_changelog_batch(buf)",
        "if self.in_recovery and not self.need_recovery():",
        "self.flush_buffers()",
        "self.signal_recovery_end.set()",
    ):
        assert step in slurp, step
    # what a memory store reads of an event, and that it takes a batch of them
    store = inspect.getsource(MemoryStore._create_batch_iterator)
    for attribute in ("event.key", "event.value", "event.message.value", "event.message.partition"):
        assert attribute in store, attribute
    assert "apply_changelog_batch" in inspect.getsource(Collection)
    assert "self._on_changelog_event" in inspect.getsource(Collection.on_changelog_event)
    # a codec decodes through its nodes' own _loads, itself first
    assert "for node in reversed(self.nodes):" in inspect.getsource(Codec.loads)


def test_the_recovery_attributes_the_bulk_restore_and_its_watchdog_use_exist(
    tmp_path: Path,
) -> None:
    pipe = create_pipeline(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path))
    recovery: Any = pipe.app.tables.recovery
    for name in (
        "active_tps",
        "tp_to_table",
        "active_offsets",
        "active_highwaters",
        "in_recovery",
        "need_recovery",
        "active_remaining",
        "flush_buffers",
        "signal_recovery_end",
        "_active_events_received_at",
    ):
        assert hasattr(recovery, name), name
    registry: Any = pipe.app.serializers
    assert callable(registry.Model._maybe_reconstruct)
    params = list(inspect.signature(faust_aiokafka.Consumer._wait_next_records).parameters)
    assert params == ["self", "timeout"]
