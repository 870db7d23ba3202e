"""Detection on the real broker: department records, learned state across a restart, and a
sensor gone silent (the dead-man's switch) across one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import Stack, wait_for

from schemas import Alert, DepartmentEvent, RiskSignal, SensorReading
from schemas.codec import decode
from schemas.registry import ALERTS, READINGS, SIGNALS
from streams.runtime.kafka_io import Producer, read_topic
from streams.runtime.partitioning import partition_of

pytestmark = pytest.mark.integration

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def signals(stack: Stack, min_count: int) -> list[RiskSignal]:
    records = read_topic(stack.bootstrap, stack.prefix + SIGNALS.name, min_count=min_count)
    return [decode(RiskSignal, r.value) for r in records]


def test_department_records_raise_rate_and_collision_signals(
    make_stack_env: Callable[..., Stack],
) -> None:
    stack = make_stack_env()
    place = "addr.linping.nanyuan-12-3"
    events: list[DepartmentEvent] = []
    # Four weeks of the usual: one dispute call every four days...
    for day in range(0, 28, 4):
        events.append(
            DepartmentEvent(
                event_id=f"call-{day}",
                department="police",
                event_type="dispute_call",
                place_id=place,
                event_time=T0 + timedelta(days=day, hours=20),
            )
        )
    # ...then five in one evening.
    for i in range(5):
        events.append(
            DepartmentEvent(
                event_id=f"call-burst-{i}",
                department="police",
                event_type="dispute_call",
                place_id=place,
                event_time=T0 + timedelta(days=30, hours=19, minutes=10 * i),
            )
        )
    flat = "flat.yuhang.xingqiao-7-502"
    events.append(
        DepartmentEvent(
            event_id="reg-502",
            department="housing",
            event_type="rental_registration",
            place_id=flat,
            attributes={"declared_tenants": 2},
            event_time=T0,
        )
    )
    events.append(
        DepartmentEvent(
            event_id="util-502",
            department="utility",
            event_type="utility_occupancy",
            place_id=flat,
            attributes={"estimated_occupants": 10},
            event_time=T0 + timedelta(days=12),
        )
    )
    producer = Producer(stack.bootstrap, stack.prefix)
    producer.send_all(events)
    producer.close()

    found = wait_for(
        lambda: (s := signals(stack, 2)) and len(s) >= 2 and s, what="two signals", timeout=60
    )
    found = signals(stack, 2)
    by_rp = {s.risk_point: s for s in found}
    assert sorted(by_rp) == ["rental_overcrowding", "repeated_neighbour_disputes"], found
    assert len(found) == 2, "one signal each: triggers hold until the score clears"

    rate = by_rp["repeated_neighbour_disputes"]
    assert rate.place_id == place and rate.detector_id == "rate.repeated_neighbour_disputes"
    assert rate.source_event_ids[0].startswith("call-burst-")
    assert rate.indicators["count_in_window"] >= 2
    assert rate.baseline is not None and rate.baseline < 1.0

    coll = by_rp["rental_overcrowding"]
    assert coll.source_event_ids == ["reg-502", "util-502"]
    assert coll.indicators == {
        "rental_registration.declared_tenants": 2.0,
        "utility_occupancy.estimated_occupants": 10.0,
    }
    # both became alerts, orders and SMS deliveries
    wait_for(lambda: len(stack.sms_messages()) == 2, what="two SMS deliveries")


SEASONAL_CATALOGUE = """
version: 1
modules: [{id: flood_control, name: Flood}]
risk_points:
  - id: drain_unusual
    module: flood_control
    name: Drain level unusual
    source: {sensor_kind: drain_level_cm}
    detector: {kind: seasonal_zscore, params: {buckets: 1, alpha: 0.1, warmup: 30}}
    severity: medium
    emergency: false
"""


def reading(i: int, value: float) -> SensorReading:
    return SensorReading(
        reading_id=f"drain-7-{i:04d}",
        sensor_id="drain-7",
        sensor_kind="drain_level_cm",
        place_id="cell.yuhang.drain-7",
        value=value,
        event_time=T0 + timedelta(minutes=5 * i),
    )


def test_a_restart_keeps_the_learned_baseline(
    make_stack_env: Callable[..., Stack], tmp_path: Path
) -> None:
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(SEASONAL_CATALOGUE)
    stack = make_stack_env(YUJING_CATALOGUE=str(catalogue))
    producer = Producer(stack.bootstrap, stack.prefix)
    producer.send_all(reading(i, 40.0 + (i % 5) * 0.5) for i in range(40))
    wait_for(
        lambda: stack.metric("yujing_events_in_total", {"topic": READINGS.name}) == 40,
        what="the worker to learn from 40 readings",
    )
    stack.stop_worker()  # a clean restart: the learnt baseline must come back from the changelog
    stack.start_worker()

    producer.send(reading(40, 41.0))  # normal
    producer.send(reading(41, 90.0))  # far outside the learnt band
    producer.flush()
    producer.close()
    wait_for(
        lambda: stack.metric("yujing_events_in_total", {"topic": READINGS.name}) == 2,
        what="the restarted worker to read the two new readings",
    )
    found = signals(stack, 1)
    assert [s.source_event_ids for s in found] == [["drain-7-0041"]], (
        "a cold detector would stay silent: the anomaly proves the state was restored"
    )
    assert found[0].baseline == pytest.approx(41.0, abs=1.0)


def gas_alarm(sensor: str, hour: int) -> SensorReading:
    return SensorReading(
        reading_id=f"{sensor}-{hour:03d}",
        sensor_id=sensor,
        sensor_kind="gas_lel",
        place_id=f"restaurant.{sensor}",
        value=1.0,
        event_time=T0 + timedelta(hours=hour),
    )


def one_partition_pair(partitions: int = 2) -> tuple[str, str]:
    """Two gas alarms whose readings share a partition (the switch's clock is one
    partition's event time)."""
    names = [f"gas-alarm-{i}" for i in range(20)]
    first = names[0]
    want = partition_of(first.encode(), partitions)
    return first, next(n for n in names[1:] if partition_of(n.encode(), partitions) == want)


def test_a_gas_alarm_gone_silent_is_signalled_once_across_a_restart(
    make_stack_env: Callable[..., Stack],
) -> None:
    """The catalogue's dead-man's switch on the real broker: the silence begins before
    the worker restarts and shows after it, so the restarted worker rebuilds its watch
    from the stored sensor states; it is signalled once, and a later reading of the
    sensor that came back starts a silence of its own only when it goes quiet again."""
    stack = make_stack_env()
    quiet, busy = one_partition_pair()
    stack.produce(gas_alarm(quiet, 0), *(gas_alarm(busy, h) for h in range(3)))
    stack.settle()
    stack.stop_worker()
    stack.start_worker()
    stack.produce(*(gas_alarm(busy, h) for h in range(3, 9)))  # quiet: 8 h, the switch: 4
    stack.settle()
    found = [s for s in stack.read(SIGNALS, RiskSignal) if s.risk_point == "gas_sensor_silent"]
    assert [(s.source_key, s.source_event_ids) for s in found] == [(quiet, [f"{quiet}-000"])]
    assert found[0].indicators["heartbeat_s"] == 3600.0
    assert found[0].indicators["silent_s"] >= 4 * 3600.0
    # its alert is raised (single-risk: no compound or systemic rule counts a silence)
    alerts = stack.read(ALERTS, Alert)
    assert [a.risk_points for a in alerts if a.source_keys == [quiet]] == [["gas_sensor_silent"]]
