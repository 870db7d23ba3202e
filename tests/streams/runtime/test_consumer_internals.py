"""The faust-streaming and aiokafka internals streams.runtime.consumer relies on, pinned.

streams.runtime.consumer replaces Faust's drain loop and commit decisions; it reads and
writes private attributes and relies on the order in which Faust's recovery
resumes, seeks and clears. An upgrade that changes any of these must fail here,
before it can lose a record, not in production. pyproject.toml pins the exact
versions these checks were written against.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiokafka
import pytest
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
