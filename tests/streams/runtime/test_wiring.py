"""The wiring (runtime/wiring.py): one Faust agent per input topic, each event decoded once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from schemas.codec import encode
from schemas.registry import (
    DISPATCH_ORDERS,
    DISPOSAL_WATCH,
    PLACE_WATCH,
    READINGS,
    SIGNALS,
    TOPICS,
)
from streams.core.orders.create import create_order
from streams.runtime import wiring as wiring_module
from streams.runtime.agent import Agent, Result
from streams.runtime.app import create_pipeline
from streams.runtime.settings import Settings
from tests.lib.alerts import gas_alert

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


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


def test_adding_an_agent_after_build_is_refused(tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    late = Agent("late", lambda ctx: {READINGS: lambda reading, source: Result()})
    with pytest.raises(RuntimeError, match="already built"):
        pipe.wiring.add(late, late.build(pipe.context))


def test_an_event_is_decoded_once_for_every_agent_that_reads_its_topic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = _pipeline(tmp_path)
    decodes: list[str] = []
    real = wiring_module.decode

    def counting(schema: type, *args: Any, **kwargs: Any) -> Any:
        decodes.append(schema.__name__)
        return real(schema, *args, **kwargs)

    monkeypatch.setattr(wiring_module, "decode", counting)
    topic = f"t.{DISPATCH_ORDERS.name}"
    hops = pipe.wiring._topics[topic].hops
    assert [h.stage for h in hops] == ["plan_notifications", "track_orders"]
    handed: list[tuple[str, int]] = []
    for hop in hops:

        async def run(
            model: Any, source: Any, key: Any, value: Any, stage: str = hop.stage
        ) -> None:
            handed.append((stage, id(model)))

        monkeypatch.setattr(hop, "run", run)
    order = create_order(pipe.context.config.router, gas_alert(T0), T0)
    message = SimpleNamespace(partition=1, offset=7)
    for _ in range(3):
        asyncio.run(pipe.wiring.process(topic, message, order.order_id.encode(), encode(order)))
    assert decodes == ["DispatchOrder"] * 3  # once per event, not once per reader
    assert [stage for stage, _ in handed] == ["plan_notifications", "track_orders"] * 3
    assert handed[0][1] == handed[1][1]  # both readers got the same decoded object


def test_a_stage_names_the_agent_and_for_a_second_input_its_topic(tmp_path: Path) -> None:
    """Dead letters and latency series say which agent, and which of its inputs."""
    pipe = _pipeline(tmp_path)
    stages = {
        topic.split(".")[-2]: [h.stage for h in t.hops] for topic, t in pipe.wiring._topics.items()
    }
    assert stages["readings"] == ["detect"]
    assert stages["disposal-watch"] == ["detect.disposal-watch"]
    assert stages["dispatch-updates"] == ["track_orders.dispatch-updates"]
    every = [s for hops in stages.values() for s in hops]
    assert len(every) == len(set(every)), "two handlers would share one stage's metrics"


def _batch_bytes(sensors: list[str], broken: int | None = None) -> bytes:
    import json

    from schemas import ReadingBatch, SensorReading

    readings = [
        SensorReading(
            reading_id=f"r{i}",
            sensor_id=s,
            sensor_kind="gas_lel",
            place_id="site.a",
            value=1.0,
            event_time=T0,
        )
        for i, s in enumerate(sensors)
    ]
    doc = json.loads(
        encode(
            ReadingBatch(
                batch_id="b1",
                gateway_id="site.a",
                sensor_group=sensors[0],
                readings=readings,
                event_time=T0,
            )
        )
    )
    if broken is not None:
        doc["readings"][broken]["value"] = "high"
    return json.dumps(doc).encode()


def test_a_batch_goes_on_without_its_bad_and_misplaced_readings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schemas.registry import READING_BATCHES
    from streams.runtime.partitioning import partition_of

    pipe = _pipeline(tmp_path)  # 2 partitions
    sensors = [f"gas-{i:04d}" for i in range(40)]
    home = [s for s in sensors if partition_of(s.encode(), 2) == 1]
    away = [s for s in sensors if partition_of(s.encode(), 2) == 0]
    chosen = [home[0], home[1], away[0], home[2]]
    topic = f"t.{READING_BATCHES.name}"
    entry = pipe.wiring._topics[topic]
    assert [h.stage for h in entry.hops] == ["detect.reading-batches"]
    hop = entry.hops[0]
    handed: list[Any] = []
    letters: list[tuple[Any, ...]] = []

    async def run(model: Any, source: Any, key: Any, value: Any) -> None:
        handed.append(model)

    async def reject(source: Any, key: Any, bad: Any) -> None:
        letters.extend((item, reason.value, detail, value) for value, reason, detail, item in bad)

    monkeypatch.setattr(hop, "run", run)
    monkeypatch.setattr(hop, "reject", reject)
    message = SimpleNamespace(partition=1, offset=3)
    asyncio.run(pipe.wiring.process(topic, message, home[0].encode(), _batch_bytes(chosen, 1)))
    assert [r.sensor_id for r in handed[0].readings] == [home[0], home[2]]
    assert [(i, reason) for i, reason, _, _ in letters] == [(1, "schema"), (2, "wrong_key")]
    assert f"sensor_id='{away[0]}' falls in partition 0 of 2" in letters[1][2]
    assert b'"high"' in letters[0][3]  # the bad reading's own bytes
    # the whole record keyed by another sensor than its group: refused whole
    letters.clear()
    asyncio.run(pipe.wiring.process(topic, message, b"other", _batch_bytes([home[0]])))
    assert [(i, reason) for i, reason, _, _ in letters] == [(None, "wrong_key")]
    assert len(handed) == 1


def _hooked(pipe: Any, topic: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    """Every hop of ``topic`` records what it is handed and what it is asked to reject."""
    handed: list[Any] = []
    letters: list[tuple[Any, ...]] = []
    for hop in pipe.wiring._topics[topic].hops:

        async def run(model: Any, source: Any, key: Any, value: Any) -> None:
            handed.append(model)

        async def reject(source: Any, key: Any, bad: Any) -> None:
            letters.extend((item, reason.value, detail) for _, reason, detail, item in bad)

        monkeypatch.setattr(hop, "run", run)
        monkeypatch.setattr(hop, "reject", reject)
    return handed, letters


def _reading(at: datetime, sensor: str = "gas-1") -> bytes:
    from schemas import SensorReading

    r = SensorReading(
        reading_id=f"{sensor}-{at.timestamp():.0f}",
        sensor_id=sensor,
        sensor_kind="gas_lel",
        place_id="site.a",
        value=1.0,
        event_time=at,
    )
    return encode(r)


def test_an_input_stamped_beyond_the_allowed_skew_reaches_no_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading from a gateway whose clock says 9999 (in UTC, the year 10000) is a dead
    letter ``implausible_time`` before any agent sees it; four minutes ahead is believed.
    Times the pipeline stamps itself (a signal's) are not judged again."""
    pipe = _pipeline(tmp_path)
    topic = f"t.{READINGS.name}"
    handed, letters = _hooked(pipe, topic, monkeypatch)
    message = SimpleNamespace(partition=0, offset=1)
    far = datetime.fromisoformat("9999-12-31T23:59:59-12:00")
    soon = datetime.now(UTC) + timedelta(minutes=4)
    asyncio.run(pipe.wiring.process(topic, message, b"gas-1", _reading(far)))
    asyncio.run(pipe.wiring.process(topic, message, b"gas-1", _reading(soon)))
    assert [(i, reason) for i, reason, _ in letters] == [(None, "implausible_time")]
    assert "9999-12-31T23:59:59-12:00" in letters[0][2] and "at most 300 s" in letters[0][2]
    assert [r.event_time for r in handed] == [soon]
    assert not SIGNALS.external and READINGS.external


def test_a_batch_loses_only_its_implausible_readings_unless_its_own_time_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from schemas.registry import READING_BATCHES
    from streams.runtime.partitioning import partition_of

    pipe = _pipeline(tmp_path)
    topic = f"t.{READING_BATCHES.name}"
    handed, letters = _hooked(pipe, topic, monkeypatch)
    sensors = [s for s in (f"gas-{i:04d}" for i in range(40)) if partition_of(s.encode(), 2) == 1]
    message = SimpleNamespace(partition=1, offset=3)
    doc = json.loads(_batch_bytes(sensors[:3]))
    doc["readings"][1]["event_time"] = "9999-12-31T23:59:59-12:00"
    asyncio.run(pipe.wiring.process(topic, message, sensors[0].encode(), json.dumps(doc).encode()))
    assert [(i, reason) for i, reason, _ in letters] == [(1, "implausible_time")]
    assert [r.sensor_id for r in handed[0].readings] == [sensors[0], sensors[2]]
    letters.clear()
    doc["event_time"] = "2999-01-01T00:00:00+00:00"  # the upload itself: all of it goes
    asyncio.run(pipe.wiring.process(topic, message, sensors[0].encode(), json.dumps(doc).encode()))
    assert [(i, reason) for i, reason, _ in letters] == [(None, "implausible_time")]
    assert len(handed) == 1


def test_a_configured_horizon_refuses_readings_from_a_reset_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env(
        environ={"YUJING_EVENT_HORIZON_S": "604800"}, data_dir=tmp_path, topic_prefix="t."
    )
    pipe = create_pipeline(settings, registry=CollectorRegistry())
    topic = f"t.{READINGS.name}"
    handed, letters = _hooked(pipe, topic, monkeypatch)
    message = SimpleNamespace(partition=0, offset=1)
    asyncio.run(
        pipe.wiring.process(topic, message, b"gas-1", _reading(datetime(1970, 1, 1, tzinfo=UTC)))
    )
    assert [reason for _, reason, _ in letters] == ["implausible_time"]
    assert "the horizon is 604800 s" in letters[0][2] and handed == []
