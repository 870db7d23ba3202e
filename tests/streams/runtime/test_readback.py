"""The breach read-back (runtime/readback.py) when the broker cannot answer, broker-free.

A tick's read-back that fails must say "not yet" (None: the tracker skips that tick
rather than publish breaches it cannot check for duplicates), must try again on the
next tick, and must not leave a Kafka client open per failed attempt: ticks come
every second.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from streams.dev.broker import find_free_port
from streams.runtime import readback as readback_module
from streams.runtime.readback import BreachReadBack
from streams.runtime.settings import Settings


def _nowhere(tmp_path: Path) -> Settings:
    # a port nothing listens on: the connection is refused at once
    return Settings(kafka_bootstrap=f"127.0.0.1:{find_free_port()}", data_dir=tmp_path)


def test_an_unanswered_read_back_is_none_and_is_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    readback = BreachReadBack(_nowhere(tmp_path))
    with caplog.at_level(logging.WARNING, logger="streams.runtime.readback"):
        first = asyncio.run(readback.known(3))
        second = asyncio.run(readback.known(3))
    assert first is None and second is None
    tried = [r.getMessage() for r in caplog.records if "cannot read back" in r.getMessage()]
    assert len(tried) == 2 and all(m.startswith("partition 3:") for m in tried)


def test_a_failed_read_back_closes_its_kafka_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[AIOKafkaConsumer] = []

    class Recorded(AIOKafkaConsumer):  # the real client, remembered to look at afterwards
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(readback_module, "AIOKafkaConsumer", Recorded)
    readback = BreachReadBack(_nowhere(tmp_path))
    for _ in range(3):
        assert asyncio.run(readback.known(0)) is None
    assert len(made) == 3
    assert all(consumer._closed for consumer in made)
