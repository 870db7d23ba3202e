"""Level shift: a sustained change of a sensor's mean, by river's Page-Hinkley test.

(reading → **signal** → alert → ...) A slow leak, a blocked drain, a sinking
foundation: no single reading is extreme, but the level has moved. Readings are
standardised against a slowly learnt reference (so one parameter set fits
any unit), fed to :class:`river.drift.PageHinkley`, and the score is the
Page-Hinkley statistic as a fraction of its alarm threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Self

from river.drift import PageHinkley

from streams.core.signals.detectors.base import Detector, Point, check_params, clamp01
from streams.core.signals.detectors.ewstats import EW
from streams.core.signals.trigger import Trigger


class LevelShift(Detector[Point]):
    """Page-Hinkley on standardised readings.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> det = LevelShift.from_params({"warmup": 30, "threshold": 8.0})
    >>> for i in range(60):
    ...     det.learn_one(Point(t, 5.0 + 0.1 * (i % 5)))
    >>> before = det.score_one(Point(t, 5.2))
    >>> during = []
    >>> for i in range(15):
    ...     during.append(det.score_one(Point(t, 7.0)))
    ...     det.learn_one(Point(t, 7.0))
    >>> before < 0.2, max(during) == 1.0
    (True, True)
    """

    kind = "level_shift"
    version = 1

    def __init__(
        self,
        warmup: int = 60,
        alpha: float = 0.01,
        delta: float = 0.5,
        threshold: float = 20.0,
        forgetting: float = 0.9999,
        min_std: float = 1e-6,
    ) -> None:
        if warmup < 2:
            raise ValueError(f"{self.kind}: warmup must be >= 2")
        if threshold <= 0 or delta < 0 or not 0 < alpha < 1:
            raise ValueError(f"{self.kind}: need threshold > 0, delta >= 0, 0 < alpha < 1")
        self.warmup, self.alpha, self.min_std = warmup, alpha, min_std
        self.ref = EW(alpha)
        #: only in a machine re-check's copy: the level the alarm's reading showed
        self.shifted: float | None = None
        self.ph = PageHinkley(
            min_instances=1, delta=delta, threshold=threshold, alpha=forgetting, mode="both"
        )

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        check_params(
            cls.kind, params, {"warmup", "alpha", "delta", "threshold", "forgetting", "min_std"}
        )
        kwargs: dict[str, Any] = {
            k: int(v) if k == "warmup" else float(v) for k, v in params.items()
        }
        return cls(**kwargs)

    @classmethod
    def sample_params(cls) -> dict[str, Any]:
        return {"warmup": 60, "threshold": 20.0}

    @staticmethod
    def default_trigger() -> Trigger:
        return Trigger(threshold=1.0, clear=0.5)

    def _z(self, x: float) -> float:
        std = max(self.ref.std, self.min_std, abs(self.ref.mean) * 1e-6)
        return (x - self.ref.mean) / std

    def _tests_after(self, z: float) -> tuple[float, float]:
        """The Page-Hinkley statistics river would have after ``update(z)``, without updating."""
        ph = self.ph
        if ph.drift_detected:  # river resets on the next update
            n, mean, s_inc, s_dec, min_inc, max_dec = 0.0, 0.0, 0.0, 0.0, math.inf, -1.0
        else:
            n, mean = ph._x_mean.n, ph._x_mean.get()
            s_inc, s_dec = ph._sum_increase, ph._sum_decrease
            min_inc, max_dec = ph._min_increase, ph._max_decrease
        mean = mean + (z - mean) / (n + 1)
        dev = z - mean
        s_inc = ph.alpha * s_inc + dev - ph.delta
        s_dec = ph.alpha * s_dec + dev + ph.delta
        return s_inc - min(min_inc, s_inc), max(max_dec, s_dec) - s_dec

    def score_one(self, x: Point) -> float:
        if not self.is_warm():
            return 0.0
        up, down = self._tests_after(self._z(x.value))
        return clamp01(max(up, down) / self.ph.threshold)

    def recheck_score(self, x: Point) -> float:
        """How much of the shift is still there: 0 at the level before it, 1 at the alarm's.

        The live detector learns the new level after a drift; the re-check
        does not. It compares a reading with the two levels the detector saw
        (its reference before the shift, and the reading that raised the
        alarm), so at the default clear level (0.5) a reading is healthy when it
        is nearer the level before the shift. The reference learns healthy
        readings only, so a recovered level may drift as normal levels do,
        while a level that stays shifted stays unhealthy however long it lasts.
        """
        if not self.is_warm() or self.shifted is None:
            return self.score_one(x)
        span = self.shifted - self.ref.mean
        if abs(span) <= max(self.min_std, abs(self.ref.mean) * 1e-9):
            return 0.0  # the alarm's reading was at the reference: no shift left to judge
        return clamp01((x.value - self.ref.mean) / span)

    def recheck_learn(self, x: Point, healthy: bool) -> None:
        if not self.is_warm():
            return
        if self.shifted is None:
            self.shifted = x.value  # the alarm's own reading: where the level moved
        elif healthy:
            self.ref.update(x.value)

    def learn_one(self, x: Point) -> None:
        if self.ref.n < self.warmup:
            self.ref.update(x.value)
            return
        self.ph.update(self._z(x.value))
        if self.ph.drift_detected:
            # The level moved: learn the new normal from here.
            self.ref = EW(self.alpha)
        self.ref.update(x.value)

    def is_warm(self) -> bool:
        return self.ref.n >= self.warmup

    def baseline(self) -> float | None:
        return self.ref.mean if self.ref.n else None

    def indicators(self, x: Point) -> dict[str, float]:
        up, down = self._tests_after(self._z(x.value))
        return {"value": x.value, "reference": self.ref.mean, "ph_up": up, "ph_down": down}

    def state(self) -> dict[str, Any]:
        ph = self.ph
        extra = {} if self.shifted is None else {"s": self.shifted}
        return {
            **extra,
            "r": self.ref.to_list(),
            "p": [
                ph._x_mean.n,
                ph._x_mean.get(),
                ph._sum_increase,
                ph._sum_decrease,
                None if math.isinf(ph._min_increase) else ph._min_increase,
                ph._max_decrease,
                ph.drift_detected,
            ],
        }

    def load(self, state: Mapping[str, Any]) -> None:
        self.ref = EW.from_list(self.alpha, state["r"])
        shifted = state.get("s")
        self.shifted = None if shifted is None else float(shifted)
        n, mean, s_inc, s_dec, min_inc, max_dec, drift = state["p"]
        ph = self.ph
        ph._reset()
        ph._x_mean.n, ph._x_mean._mean = n, float(mean)
        ph._sum_increase, ph._sum_decrease = float(s_inc), float(s_dec)
        ph._min_increase = math.inf if min_inc is None else float(min_inc)
        ph._max_decrease = max_dec
        ph._drift_detected = bool(drift)
