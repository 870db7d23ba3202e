"""Threshold detector: a fixed limit on the raw value, scored into [0, 1].

(reading → **signal** → alert → ...) For physical limits that need no
learning: a gas concentration in %LEL, a water depth. The score is 0.5 at
``upper`` and 0 at ``clear``, so the default trigger (fire at 0.5, re-arm at
0) gives hysteresis between the two limits; ``for_s`` on the trigger adds a
"for" duration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from streams.core.signals.detectors.base import Detector, Point, check_params, clamp01
from streams.core.signals.trigger import Trigger


class Threshold(Detector[Point]):
    """Score ``0.5 + (value - upper) / (2 * (upper - clear))``, clamped to [0, 1].

    ``direction: below`` watches a lower limit instead (e.g. water pressure).

    >>> det = Threshold.from_params({"upper": 20.0, "clear": 10.0})
    >>> [round(det.score_one(Point(t=None, value=v)), 2) for v in (5, 10, 15, 20, 30)]
    [0.0, 0.0, 0.25, 0.5, 1.0]
    """

    kind = "threshold"
    version = 1

    def __init__(self, upper: float, clear: float | None = None, direction: str = "above") -> None:
        if direction not in ("above", "below"):
            raise ValueError(f"threshold: direction must be 'above' or 'below', not {direction!r}")
        sign = 1.0 if direction == "above" else -1.0
        if clear is None:
            clear = upper - sign * max(abs(upper) * 0.1, 1e-9)
        if sign * (upper - clear) <= 0:
            raise ValueError(
                f"threshold: clear ({clear}) must be on the normal side of upper ({upper})"
            )
        self.upper, self.clear, self.direction, self._sign = upper, clear, direction, sign

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        check_params(cls.kind, params, {"upper", "clear", "direction"}, {"upper"})
        clear = params.get("clear")
        return cls(
            float(params["upper"]),
            None if clear is None else float(clear),
            str(params.get("direction", "above")),
        )

    @classmethod
    def sample_params(cls) -> dict[str, Any]:
        return {"upper": 20.0, "clear": 10.0}

    @staticmethod
    def default_trigger() -> Trigger:
        return Trigger(threshold=0.5, clear=0.0)

    def score_one(self, x: Point) -> float:
        span = self._sign * (self.upper - self.clear)
        return clamp01(0.5 + self._sign * (x.value - self.upper) / (2.0 * span))

    def learn_one(self, x: Point) -> None:
        return None

    def is_warm(self) -> bool:
        return True

    def state(self) -> dict[str, Any]:
        return {}

    def load(self, state: Mapping[str, Any]) -> None:
        return None

    def baseline(self) -> float | None:
        return self.clear

    def indicators(self, x: Point) -> dict[str, float]:
        return {"value": x.value, "upper": self.upper, "clear": self.clear}
