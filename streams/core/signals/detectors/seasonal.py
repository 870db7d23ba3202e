"""Seasonal z-score: a reading against the same hour of the day, learnt online.

(reading → **signal** → alert → ...) Water levels, gas flow and occupancy have
daily rhythms: 3 a.m. and 7 p.m. have different normals. Each hour-of-day
bucket keeps an exponentially weighted mean and variance; the score is the
two-sided Gaussian tail of the reading's z-score against its bucket (or the
global statistics while the bucket is young). Learning is winsorized, so an
anomaly does not drag its own baseline along.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta, timezone
from typing import Any, Self

from scipy.special import stdtr

from streams.core.signals.detectors.base import Detector, Point, check_params, clamp01
from streams.core.signals.detectors.ewstats import EW, predictive_std, weight_sq
from streams.core.signals.trigger import Trigger


class SeasonalZScore(Detector[Point]):
    """Per-bucket EW z-score.

    >>> from datetime import datetime, timedelta, timezone
    >>> det = SeasonalZScore.from_params({"warmup": 20, "buckets": 1})
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> for i in range(40):
    ...     det.learn_one(Point(t0 + timedelta(minutes=i), 10.0 + (i % 3)))
    >>> det.is_warm(), det.score_one(Point(t0, 11.0)) < 0.5, det.score_one(Point(t0, 40.0)) > 0.99
    (True, True, True)
    """

    kind = "seasonal_zscore"
    version = 2

    def __init__(
        self,
        buckets: int = 24,
        alpha: float = 0.05,
        warmup: int = 48,
        bucket_warmup: int = 5,
        min_std: float = 1e-6,
        clip_z: float = 4.0,
        utc_offset_h: float = 8.0,
    ) -> None:
        if not 1 <= buckets <= 48 or 1440 % buckets:
            raise ValueError(
                f"{self.kind}: buckets must divide a day's minutes (1..48), got {buckets}"
            )
        if not 0 < alpha < 1:
            raise ValueError(f"{self.kind}: alpha must be in (0, 1), got {alpha}")
        if not -24 < utc_offset_h < 24:
            raise ValueError(f"{self.kind}: utc_offset_h must be within (-24, 24) hours")
        if warmup < 2 or bucket_warmup < 1:
            raise ValueError(f"{self.kind}: warmup must be >= 2 and bucket_warmup >= 1")
        self.buckets, self.alpha, self.warmup = buckets, alpha, warmup
        self.bucket_warmup, self.min_std, self.clip_z = bucket_warmup, min_std, clip_z
        self.tz = timezone(timedelta(hours=utc_offset_h))
        self.utc_offset_h = utc_offset_h
        self.glob = self._ew()
        self.by_bucket: dict[int, EW] = {}

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        allowed = {
            "buckets",
            "alpha",
            "warmup",
            "bucket_warmup",
            "min_std",
            "clip_z",
            "utc_offset_h",
        }
        check_params(cls.kind, params, allowed)
        ints = {"buckets", "warmup", "bucket_warmup"}
        kwargs: dict[str, Any] = {k: (int(v) if k in ints else float(v)) for k, v in params.items()}
        return cls(**kwargs)

    @classmethod
    def sample_params(cls) -> dict[str, Any]:
        return {"buckets": 24, "alpha": 0.05, "warmup": 48}

    @staticmethod
    def default_trigger() -> Trigger:
        return Trigger(threshold=0.9999, clear=0.99)

    def _bucket(self, p: Point) -> int:
        local = p.t.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        return minute * self.buckets // 1440

    def _ew(self) -> EW:
        return EW(self.alpha, warm_start=True)

    def _stats(self, p: Point) -> EW:
        b = self.by_bucket.get(self._bucket(p))
        return b if b is not None and b.n >= max(self.bucket_warmup, 2) else self.glob

    def _spread(self, s: EW) -> tuple[float, float]:
        """(the spread of a new value around ``s``'s mean, degrees of freedom)."""
        s2 = weight_sq(s.n, self.alpha)
        std = predictive_std(s.var, s2)
        return max(std, self.min_std, abs(s.mean) * 1e-6), max(1.0 / s2 - 1.0, 1.0)

    def _z(self, p: Point) -> float:
        s = self._stats(p)
        return (p.value - s.mean) / self._spread(s)[0]

    def score_one(self, x: Point) -> float:
        if not self.is_warm():
            return 0.0
        s = self._stats(x)
        std, df = self._spread(s)
        return clamp01(2.0 * float(stdtr(df, abs(x.value - s.mean) / std)) - 1.0)

    def learn_one(self, x: Point) -> None:
        value = x.value
        if self.is_warm():
            s = self._stats(x)
            std = self._spread(s)[0]
            lo, hi = s.mean - self.clip_z * std, s.mean + self.clip_z * std
            value = min(max(value, lo), hi)
        self.glob.update(value)
        b = self._bucket(x)
        self.by_bucket.setdefault(b, self._ew()).update(value)

    def is_warm(self) -> bool:
        return self.glob.n >= self.warmup

    def baseline(self) -> float | None:
        return self.glob.mean if self.glob.n else None

    def indicators(self, x: Point) -> dict[str, float]:
        s = self._stats(x)
        return {"value": x.value, "expected": s.mean, "std": self._spread(s)[0], "z": self._z(x)}

    def state(self) -> dict[str, Any]:
        return {
            "g": self.glob.to_list(),
            "b": {str(k): v.to_list() for k, v in self.by_bucket.items()},
        }

    def load(self, state: Mapping[str, Any]) -> None:
        self.glob = EW.from_list(self.alpha, state["g"], warm_start=True)
        self.by_bucket = {
            int(k): EW.from_list(self.alpha, v, warm_start=True) for k, v in state["b"].items()
        }
