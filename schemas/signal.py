"""Risk signals: one detector firing for one sensor, place or subject.

(reading → **signal** → alert → order → notification.) Every signal explains
itself: which detector, its score against its threshold, the baseline, the
indicator values and the source events behind it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.base import Event, Id, Name


class RiskSignal(Event):
    """A single-risk detection. ``event_time`` is the time of the triggering source event."""

    schema_version: Literal[1] = 1
    signal_id: Id = Field(
        description="Deterministic: the same source event and detector give the same id."
    )
    risk_point: Name = Field(description="Catalogue risk point id.")
    module: Name = Field(description="Catalogue module the risk point belongs to.")
    detector_id: Name = Field(description="Detector that fired.")
    detector_version: int = Field(
        ge=1, description="Version of the detector's logic and parameters."
    )
    source_key: Id = Field(description="Sensor id or subject the detector watches.")
    place_id: Id = Field(description="Where; the topic key.")
    severity: Literal["low", "medium", "high", "critical"]
    emergency: bool
    score: float = Field(description="Detector score for the triggering event.")
    threshold: float = Field(description="Score at or above which the detector fires.")
    baseline: float | None = Field(default=None, description="What normal looked like, if known.")
    indicators: dict[str, float] = Field(default_factory=dict, max_length=32)
    source_event_ids: list[Id] = Field(min_length=1, max_length=64)
    detected_at: AwareDatetime = Field(description="Processing time at which it fired.")
