"""Every auto-disposable risk point of the catalogue can auto-resolve, and only when it should.

For each risk point with ``auto_dispose: true``, whatever its detector kind, the
whole core loop without a broker: its stream fires (detection), the signal
becomes an alert and a machine-first order (alerting, routing), the order's
watch requests attach to the re-check (disposal), the stream goes on, and the
order's re-check decides (lifecycle). A stream that recovers — readings back
to normal, or department records that stop once the order is made — ends
``auto_resolved``; one that keeps firing never hears "recovered" and is
escalated to a person.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from districts import default_router
from incidents import incident

from schemas import (
    DepartmentEvent,
    DispatchOrder,
    OrderState,
    RiskSignal,
    SensorHealth,
    SensorReading,
)
from streams.core.alerts.single import SingleRiskRule
from streams.core.orders import lifecycle
from streams.core.orders.create import create_order
from streams.core.shared.catalogue import RiskPoint, load_catalogue
from streams.core.signals import recheck as disposal
from streams.core.signals.detect import Detection
from streams.core.signals.detectors import Point, Record

CATALOGUE = load_catalogue()
AUTO = [rp for rp in CATALOGUE.risk_points if rp.auto_dispose]
ROUTER = default_router()
DETECTION = Detection(CATALOGUE)
PLACE = "site-under-test"


def test_the_catalogue_has_auto_disposable_points_of_every_input() -> None:
    kinds = {rp.detector.kind for rp in AUTO}
    assert len(AUTO) >= 10 and {"threshold", "likelihood", "rate"} <= kinds


@dataclass
class Loop:
    """One risk point's key, run through the core as a worker would (one clock: event time)."""

    rp: RiskPoint
    detection: Detection
    state: str | None = None
    order: DispatchOrder | None = None
    record: lifecycle.OrderRecord | None = None
    heard: list[SensorHealth] | None = None

    def event(self, x: Point | Record) -> SensorReading | DepartmentEvent:
        if isinstance(x, Point):
            return SensorReading(
                reading_id=x.event_id or f"r{x.t.timestamp()}", sensor_id="sensor-under-test",
                sensor_kind=str(self.rp.source.sensor_kind), place_id=PLACE, value=x.value,
                event_time=x.t,
            )  # fmt: skip
        types = self.rp.source.event_types or []
        return DepartmentEvent(
            event_id=x.event_id, department="dept",
            event_type=x.event_type if x.event_type in types else types[0],
            place_id=PLACE, subject_id="subject-under-test",
            attributes=dict(x.attributes), event_time=x.t,
        )  # fmt: skip

    def feed(self, x: Point | Record) -> list[RiskSignal]:
        ev = self.event(x)
        now = x.t + timedelta(seconds=2)
        if isinstance(ev, SensorReading):
            seen = self.detection.observe_reading(ev, self.state, now)
        else:
            seen = self.detection.observe_record(ev, self.state, now)
        self.state = seen.state
        self.hear(seen.health)
        return [s for s in seen.signals if s.risk_point == self.rp.id]

    def hear(self, verdicts: list[SensorHealth]) -> None:
        assert self.heard is not None and self.record is not None
        for h in verdicts:
            self.heard.append(h)
            new = lifecycle.sensor_health(self.record, h.sensor_id, h.recovered)
            self.record = new or self.record

    def dispatch(self, signal: RiskSignal, at: datetime) -> None:
        alert = SingleRiskRule(CATALOGUE).on_signal(signal)
        assert alert.auto_disposable
        self.order = order = create_order(ROUTER, alert, at)
        assert order.auto_disposal is not None, f"{self.rp.id}: no machine-first order"
        by_records = self.rp.source.input == "record"
        watches = disposal.watch_requests(order, by_records, at)
        step = lifecycle.open_order(order, 0, at, [disposal.watched_key(w) for w in watches])
        self.record, self.heard = step.record, []
        for w in watches:
            new, verdicts = self.detection.attach(w, self.state, at)
            self.state = new or self.state
            self.hear(verdicts)

    def recheck(self) -> OrderState:
        assert self.order is not None and self.order.auto_disposal is not None
        assert self.record is not None
        step = lifecycle.on_tick(self.record, self.order.auto_disposal.recheck_at)
        assert step.record is not None
        return step.record.state


@functools.cache
def _alarm(rp_id: str) -> tuple[str | None, Any, RiskSignal]:
    """The risk point's incident run until its alarm: (key state, incident, signal)."""
    rp = CATALOGUE.risk_point(rp_id)
    inc = incident(rp.detector.cls, rp.detector.params, seed=1)
    loop = Loop(rp, DETECTION)
    for x in inc.history:
        _quiet_feed(loop, x)
    for x in inc.onset:
        signals = _quiet_feed(loop, x)
        if signals:
            return loop.state, inc, signals[0]
    pytest.fail(f"{rp.id}: its incident never fired")


def fire(rp: RiskPoint) -> tuple[Loop, Any, RiskSignal]:
    """The alarm, and its order made half a step later (as the worker would)."""
    state, inc, signal = _alarm(rp.id)
    loop = Loop(rp, DETECTION, state)
    loop.dispatch(signal, signal.event_time + inc.step / 2)
    return loop, inc, signal


def _quiet_feed(loop: Loop, x: Point | Record) -> list[RiskSignal]:
    """Feed before any order exists (warm-up false alarms, if any, page nobody here)."""
    ev = loop.event(x)
    now = x.t + timedelta(seconds=2)
    if isinstance(ev, SensorReading):
        seen = loop.detection.observe_reading(ev, loop.state, now)
    else:
        seen = loop.detection.observe_record(ev, loop.state, now)
    loop.state = seen.state
    assert not seen.health, "no order watches yet"
    return [s for s in seen.signals if s.risk_point == loop.rp.id]


@pytest.mark.parametrize("rp", AUTO, ids=lambda rp: rp.id)
def test_a_stream_that_recovers_is_auto_resolved(rp: RiskPoint) -> None:
    loop, inc, signal = fire(rp)
    assert loop.order is not None and loop.order.auto_disposal is not None
    recheck_at = loop.order.auto_disposal.recheck_at
    if rp.source.input == "record":
        # the burst's last records reach us after the alarm but before the order: forgiven;
        # after the order the records stop
        start = signal.event_time + inc.step / 4
        for x in inc.persist(start, 1):
            loop.feed(x)
    else:
        for x in inc.recover(signal.event_time + inc.step, 120):
            if x.t >= recheck_at or (loop.heard and loop.heard[-1].recovered):
                break
            loop.feed(x)
    assert loop.heard and loop.heard[-1].recovered, f"{rp.id}: the re-check never said recovered"
    assert loop.recheck() is OrderState.AUTO_RESOLVED


@pytest.mark.parametrize("rp", AUTO, ids=lambda rp: rp.id)
def test_a_stream_that_keeps_firing_is_never_recovered_and_escalates(rp: RiskPoint) -> None:
    loop, inc, _ = fire(rp)
    assert loop.order is not None
    for x in inc.persist(loop.order.event_time + inc.step, 300):
        loop.feed(x)
    assert loop.heard is not None
    verdicts = [h.recovered for h in loop.heard]
    if rp.source.input == "point":
        assert not any(verdicts), f"{rp.id}: judged recovered while firing"
    else:
        # a place is quiet (so far) when the order's watch attaches; the first record after
        # the order says the records did not stop, and nothing later says otherwise
        assert verdicts[:1] == [True] and not any(verdicts[1:]), verdicts
    assert loop.recheck() is OrderState.OPEN
