"""Single-risk detectors and their registry (catalogue ``kind`` → class).

(reading → **signal** → alert → order → notification.) Every registered
detector obeys :class:`streams.core.signals.detectors.base.Detector`: scores in
[0, 1], explicit warm-up, deterministic for a seed, JSON state. The contract
tests in ``tests/streams/core/signals/detectors`` run over everything in
:data:`REGISTRY`.
"""

from __future__ import annotations

from typing import Any

from streams.core.signals.detectors.base import Detector, Point, Record
from streams.core.signals.detectors.collision import Collision
from streams.core.signals.detectors.level_shift import LevelShift
from streams.core.signals.detectors.likelihood import Likelihood
from streams.core.signals.detectors.mahalanobis import Mahalanobis
from streams.core.signals.detectors.rate import RateAnomaly
from streams.core.signals.detectors.seasonal import SeasonalZScore
from streams.core.signals.detectors.surprise import Surprise
from streams.core.signals.detectors.threshold import Threshold

REGISTRY: dict[str, type[Detector[Any]]] = {}


def register(cls: type[Detector[Any]]) -> type[Detector[Any]]:
    """Add a detector class under its ``kind``."""
    if cls.kind in REGISTRY and REGISTRY[cls.kind] is not cls:
        raise ValueError(f"detector kind {cls.kind!r} is registered twice")
    REGISTRY[cls.kind] = cls
    return cls


def detector_class(kind: str) -> type[Detector[Any]]:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ValueError(f"unknown detector kind {kind!r}; known: {sorted(REGISTRY)}") from None


for _cls in (Threshold, SeasonalZScore, LevelShift, RateAnomaly, Collision):
    register(_cls)
register(Surprise)
register(Likelihood)
register(Mahalanobis)

__all__ = [
    "REGISTRY",
    "Collision",
    "Detector",
    "LevelShift",
    "Likelihood",
    "Mahalanobis",
    "Point",
    "RateAnomaly",
    "Record",
    "SeasonalZScore",
    "Threshold",
    "detector_class",
    "register",
]
