"""Detection: readings and department records against every risk point that watches them.

(reading / department event → **signal** → alert → order → notification.)
Pure: the caller owns the per-key state (a sensor for readings, a place for
department records) as one compact JSON string, which the worker keeps in a
changelog-backed table. Detectors are rebuilt from that string on every
event, so memory holds strings, not live objects, and a restart or a
partition move resumes exactly where the state left off.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas import DepartmentEvent, RiskSignal, SensorReading
from streams.core.catalogue import Catalogue, RiskPoint
from streams.core.detectors import Detector, Point, Record
from streams.core.ids import stable_id
from streams.core.trigger import Trigger

#: Per-key state as stored: compact JSON of {risk point id: {"d": detector, "g": trigger}}.
KeyState = str


@dataclass(frozen=True)
class Bound:
    """A risk point with its detector class, parameters and trigger resolved."""

    risk_point: RiskPoint
    cls: type[Detector[Any]]
    params: dict[str, Any]
    trigger: Trigger

    @property
    def detector_id(self) -> str:
        return f"{self.cls.kind}.{self.risk_point.id}"


class Detection:
    """Applies the catalogue's detectors; one instance serves every key."""

    def __init__(
        self,
        catalogue: Catalogue,
        seed: int = 0,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        """``observe(kind, seconds)``, if given, hears each detector's time per event."""
        self.seed = seed
        self._observe = observe
        self._by_kind: dict[str, list[Bound]] = {}
        self._by_type: dict[str, list[Bound]] = {}
        for rp in catalogue.risk_points:
            bound = Bound(rp, rp.detector.cls, dict(rp.detector.params), rp.make_trigger())
            if rp.source.sensor_kind is not None:
                self._by_kind.setdefault(rp.source.sensor_kind, []).append(bound)
            for et in rp.source.event_types or ():
                self._by_type.setdefault(et, []).append(bound)

    def watches(self, sensor_kind: str) -> bool:
        return sensor_kind in self._by_kind

    def on_reading(
        self, reading: SensorReading, state: KeyState | None, now: datetime
    ) -> tuple[KeyState, list[RiskSignal]]:
        """New state for the sensor, and the signals this reading raised."""
        x = Point(
            t=reading.event_time,
            value=reading.value,
            values={"value": reading.value, **reading.values} if reading.values else {},
            event_id=reading.reading_id,
        )
        bounds = self._by_kind.get(reading.sensor_kind, [])
        return self._run(bounds, x, state, now, reading.sensor_id, reading.place_id)

    def on_department_event(
        self, event: DepartmentEvent, state: KeyState | None, now: datetime
    ) -> tuple[KeyState, list[RiskSignal]]:
        """New state for the place, and the signals this record raised."""
        x = Record(
            t=event.event_time,
            department=event.department,
            event_type=event.event_type,
            attributes=event.attributes,
            event_id=event.event_id,
            subject_id=event.subject_id,
        )
        bounds = self._by_type.get(event.event_type, [])
        return self._run(bounds, x, state, now, event.subject_id or event.place_id, event.place_id)

    def _run(
        self,
        bounds: list[Bound],
        x: Point | Record,
        state: KeyState | None,
        now: datetime,
        source_key: str,
        place_id: str,
    ) -> tuple[KeyState, list[RiskSignal]]:
        stored: dict[str, Any] = json.loads(state) if state else {}
        signals: list[RiskSignal] = []
        observe = self._observe
        for b in bounds:
            started = time.perf_counter() if observe is not None else 0.0
            rp = b.risk_point
            entry = stored.get(rp.id) or {}
            det = b.cls.from_params(b.params, self.seed)
            if "d" in entry:
                det.load(entry["d"])
            score = det.score_one(x)
            warm = det.is_warm()
            trig_state, fired = b.trigger.step(entry.get("g"), score, x.t, warm)
            if fired:
                signals.append(self._signal(b, det, x, score, now, source_key, place_id))
            det.learn_one(x)
            stored[rp.id] = {"d": det.state(), "g": trig_state}
            if observe is not None:
                observe(b.cls.kind, time.perf_counter() - started)
        return json.dumps(stored, separators=(",", ":")), signals

    @staticmethod
    def _signal(
        b: Bound,
        det: Detector[Any],
        x: Point | Record,
        score: float,
        now: datetime,
        source_key: str,
        place_id: str,
    ) -> RiskSignal:
        rp = b.risk_point
        evidence = det.evidence(x) or [x.event_id]
        return RiskSignal(
            signal_id=stable_id("sig", b.detector_id, b.cls.version, *evidence),
            risk_point=rp.id,
            module=rp.module,
            detector_id=b.detector_id,
            detector_version=b.cls.version,
            source_key=source_key,
            place_id=place_id,
            severity=rp.severity,
            emergency=rp.emergency,
            score=score,
            threshold=b.trigger.threshold,
            baseline=det.baseline(),
            indicators={k: float(v) for k, v in list(det.indicators(x).items())[:32]},
            source_event_ids=evidence[:64],
            event_time=x.t,
            detected_at=now,
        )
