"""Detection: one sensor reading against every risk point that watches its kind.

(reading → **signal** → alert → order → notification.) Pure: the caller owns
the per-sensor state (a Faust table in the worker, a dict in tests and replays).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas import RiskSignal, SensorReading
from streams.core.catalogue import Catalogue, RiskPoint
from streams.core.detectors.threshold import Threshold
from streams.core.ids import stable_id

#: Per-sensor state: risk point id → that detector's state.
SensorState = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class _Bound:
    risk_point: RiskPoint
    detector: Threshold


class Detection:
    """Applies the catalogue's detectors to readings."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._by_kind: dict[str, list[_Bound]] = {}
        for rp in catalogue.risk_points:
            if rp.source.sensor_kind is None:
                continue
            det = Threshold.from_params(rp.detector.params)
            self._by_kind.setdefault(rp.source.sensor_kind, []).append(_Bound(rp, det))

    def watches(self, sensor_kind: str) -> bool:
        return sensor_kind in self._by_kind

    def on_reading(
        self, reading: SensorReading, state: SensorState | None, now: datetime
    ) -> tuple[SensorState, list[RiskSignal]]:
        """New state for the sensor, and the signals this reading raised."""
        new_state: SensorState = dict(state or {})
        signals: list[RiskSignal] = []
        for b in self._by_kind.get(reading.sensor_kind, []):
            rp = b.risk_point
            det_state, decision = b.detector.step(new_state.get(rp.id), reading.value)
            new_state[rp.id] = det_state
            if decision is None:
                continue
            detector_id = f"{rp.detector.kind}.{rp.id}"
            signals.append(
                RiskSignal(
                    signal_id=stable_id(
                        "sig", detector_id, rp.detector.version, reading.reading_id
                    ),
                    risk_point=rp.id,
                    module=rp.module,
                    detector_id=detector_id,
                    detector_version=rp.detector.version,
                    source_key=reading.sensor_id,
                    place_id=reading.place_id,
                    severity=rp.severity,
                    emergency=rp.emergency,
                    score=decision.score,
                    threshold=decision.threshold,
                    baseline=None,
                    indicators={reading.sensor_kind: reading.value},
                    source_event_ids=[reading.reading_id],
                    event_time=reading.event_time,
                    detected_at=now,
                )
            )
        return new_state, signals
