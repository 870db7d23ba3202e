"""Rate anomaly: too many department records of a kind at one place, against its own history.

(department event → **signal** → alert → ...) Three dispute calls in a day at
an address that sees one a month is a warning; three at a busy market is not.
Each place keeps an exponentially weighted mean count per window (event time);
the score of the current window's count is one minus its Poisson tail
probability under that mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Self

from streams.core.signals.detectors.base import Detector, Record, check_params, clamp01
from streams.core.signals.trigger import Trigger


def poisson_sf(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam).

    >>> round(poisson_sf(0, 2.0), 3), round(poisson_sf(3, 0.5), 4)
    (1.0, 0.0144)
    """
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    # Sum the pmf in log space: exp(-lam) alone underflows to 0 for lam > ~745.
    log_lam = math.log(lam)
    log_terms = [i * log_lam - lam - math.lgamma(i + 1) for i in range(k)]
    top = max(log_terms)
    log_cdf = top + math.log(math.fsum(math.exp(t - top) for t in log_terms))
    return min(1.0, max(0.0, -math.expm1(log_cdf)))


class RateAnomaly(Detector[Record]):
    """Count per window vs the place's own EW mean count.

    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> det = RateAnomaly.from_params({"window_s": 86400, "warmup_windows": 7})
    >>> for day in range(0, 28, 4):  # one call every four days
    ...     det.learn_one(Record(t0 + timedelta(days=day), "police", "dispute_call", {}))
    >>> day = t0 + timedelta(days=30)
    >>> scores = []
    >>> for i in range(4):
    ...     r = Record(day + timedelta(hours=i), "police", "dispute_call", {})
    ...     scores.append(round(det.score_one(r), 3)); det.learn_one(r)
    >>> det.is_warm(), scores[0] < 0.9, scores[-1] > 0.999
    (True, True, True)
    """

    kind = "rate"
    version = 1
    input = "record"

    def __init__(
        self,
        window_s: float = 86400.0,
        alpha: float = 0.1,
        warmup_windows: int = 14,
        min_rate: float = 0.05,
    ) -> None:
        if window_s <= 0 or not 0 < alpha < 1 or warmup_windows < 1 or min_rate <= 0:
            raise ValueError(f"{self.kind}: need window_s > 0, 0 < alpha < 1, warmup_windows >= 1")
        self.window_s, self.alpha = window_s, alpha
        self.warmup_windows, self.min_rate = warmup_windows, min_rate
        self.start: float | None = None  # current window start (epoch seconds)
        self.count = 0
        self.rate = 0.0
        self.windows = 0

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        check_params(cls.kind, params, {"window_s", "alpha", "warmup_windows", "min_rate"})
        kwargs: dict[str, Any] = {
            k: int(v) if k == "warmup_windows" else float(v) for k, v in params.items()
        }
        return cls(**kwargs)

    @classmethod
    def sample_params(cls) -> dict[str, Any]:
        return {"window_s": 86400, "warmup_windows": 14}

    @staticmethod
    def default_trigger() -> Trigger:
        return Trigger(threshold=0.999, clear=0.5)

    def _advanced(self, t: float) -> tuple[float, int, float, int]:
        """(start, count, rate, windows) after moving the window to contain ``t``."""
        if self.start is None:
            return t - t % self.window_s, 0, 0.0, 0
        start, count, rate, windows = self.start, self.count, self.rate, self.windows
        if t < start + self.window_s:
            return start, count, rate, windows  # same window (late records count here too)
        closed = int((t - start) // self.window_s)
        # the window that closes, then closed-1 empty ones
        rate = count if windows == 0 else (1 - self.alpha) * rate + self.alpha * count
        rate *= (1 - self.alpha) ** (closed - 1)
        return start + closed * self.window_s, 0, rate, windows + closed

    def score_one(self, x: Record) -> float:
        if not self.is_warm():
            return 0.0
        _, count, rate, _ = self._advanced(x.t.timestamp())
        return clamp01(1.0 - poisson_sf(count + 1, max(rate, self.min_rate)))

    def recheck_score(self, x: Record) -> float:
        """``x`` counted in its window, against the rate expected before the alarm.

        A burst that goes on stays anomalous; a place whose records stop (or
        fall back to its usual rate) scores low again.
        """
        _, count, _, _ = self._advanced(x.t.timestamp())
        return clamp01(1.0 - poisson_sf(count + 1, max(self.rate, self.min_rate)))

    def recheck_learn(self, x: Record, healthy: bool) -> None:
        """Count ``x`` in its window; the expected rate stays as it was at the alarm."""
        self.start, self.count, _, _ = self._advanced(x.t.timestamp())
        self.count += 1

    def learn_one(self, x: Record) -> None:
        self.start, self.count, self.rate, self.windows = self._advanced(x.t.timestamp())
        self.count += 1

    def is_warm(self) -> bool:
        return self.windows >= self.warmup_windows

    def baseline(self) -> float | None:
        return self.rate

    def indicators(self, x: Record) -> dict[str, float]:
        _, count, rate, _ = self._advanced(x.t.timestamp())
        return {"count_in_window": float(count + 1), "expected_per_window": rate}

    def state(self) -> dict[str, Any]:
        return {"s": self.start, "c": self.count, "r": self.rate, "w": self.windows}

    def load(self, state: Mapping[str, Any]) -> None:
        self.start = None if state["s"] is None else float(state["s"])
        self.count, self.rate, self.windows = int(state["c"]), float(state["r"]), int(state["w"])
