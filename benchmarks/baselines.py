"""Baseline detectors that benchmarks measure in the same run as the real ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from streams.core.signals.detectors.base import Detector, Point


class Null(Detector[Point]):
    """Never detects anything: NAB's null baseline, and a no-op loop for cost."""

    kind = "null"

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        return cls()

    def score_one(self, x: Point) -> float:
        return 0.0

    def learn_one(self, x: Point) -> None:
        return None

    def is_warm(self) -> bool:
        return True

    def state(self) -> dict[str, Any]:
        return {}

    def load(self, state: Mapping[str, Any]) -> None:
        return None
