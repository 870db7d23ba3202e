"""One Faust agent per input topic, whatever reads it (see streams/runtime/wiring.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from schemas.registry import (
    DISPATCH_ORDERS,
    DISPOSAL_WATCH,
    PLACE_WATCH,
    READINGS,
    SIGNALS,
    TOPICS,
)
from streams.runtime.app import create_pipeline
from streams.runtime.settings import Settings


def _pipeline(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = Settings.from_env(environ={}, data_dir=tmp_path, topic_prefix="t.")
    return create_pipeline(settings, registry=CollectorRegistry())


def test_every_topic_has_exactly_one_agent(tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    readers = Counter(t for agent in pipe.app.agents.values() for t in agent.channel.topics)
    assert readers, "agents were built"
    assert all(n == 1 for n in readers.values()), readers
    # every topic the worker reads is a registry topic under the prefix
    assert set(readers) <= {f"t.{name}" for name in TOPICS}


def test_hops_that_share_a_topic_share_an_agent(tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    by_topic = {t: name for name, a in pipe.app.agents.items() for t in a.channel.topics}
    # detection and its re-check share the sensor-keyed and place-keyed streams in one agent
    assert by_topic[f"t.{READINGS.name}"] == by_topic[f"t.{DISPOSAL_WATCH.name}"] == "detect"
    assert by_topic[f"t.{PLACE_WATCH.name}"] == "detect_records"
    assert by_topic[f"t.{SIGNALS.name}"] == "raise_alerts+locate_signals"
    assert by_topic[f"t.{DISPATCH_ORDERS.name}"] == "plan_notifications+track_orders"


def test_registration_after_build_is_refused(tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)

    async def handler(event: object) -> None:
        return None

    with pytest.raises(RuntimeError, match="already built"):
        pipe.wiring.on("late", [READINGS], handler)  # type: ignore[arg-type]
