"""Mahalanobis detector: several channels of one machine judged together, with who moved.

(reading → **signal** → alert → ...) For multi-channel equipment (a pump station's
pressures, flows, current and vibration; a substation) whose channels move
together when it is healthy: a fault shows as a combination that breaks the
usual correlation, often before any one channel leaves its own band.

It judges nothing before it has learnt ``warmup`` readings over ``warmup_s``
(a day by default, so a daily cycle's every load has been seen). Online: the
channels' mean and covariance are learnt with exponential
forgetting (``forget`` per reading; plain averages while younger), shrunk
towards their diagonal by ``shrink`` so a short or collinear history still
inverts. A reading's squared Mahalanobis distance ``T²`` from the mean is
turned into the upper tail probability ``p`` of a chi-square with one degree
of freedom per channel (Wilson-Hilferty), and the score is
``log(p + 1e-10) / log(1e-10)``: the calibrated scale of
:mod:`~streams.core.signals.detectors.likelihood` (0.4 ≈ ``p`` of 1e-4), so
one threshold means the same on any machine. It learns slowly, and not from a
reading scoring ``hold`` or more (an alarm standing does not become normal).
Each channel's share of the blame goes into the signal's indicators
(``share.<channel>``), so the portrait says which channels moved: how much
``T²`` would fall if that channel alone were put back where the others say it
should be (its reconstruction-based contribution, ``(Σ⁻¹d)ᵢ² / (Σ⁻¹)ᵢᵢ``), as a
share of all channels'.

The channels are the reading's ``values`` (the first reading fixes their order);
a channel missing from a later reading counts as at its mean. State: the mean
and the covariance, ``(d + d²)`` numbers, about 1 KB for 8 channels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Self

import numpy as np

from streams.core.signals.detectors.base import Detector, Point, clamp01, typed_params
from streams.core.signals.trigger import Trigger

_PARAMS: dict[str, Any] = {
    **dict.fromkeys(("warmup", "max_channels"), int),
    **dict.fromkeys(("warmup_s", "forget", "shrink", "hold"), float),
}
_LOG_FLOOR = math.log(1e-10)


def chi2_tail(x: float, dof: int) -> float:
    """Upper tail of a chi-square with ``dof`` degrees of freedom (Wilson-Hilferty).

    >>> round(chi2_tail(3.84, 1), 2), round(chi2_tail(15.51, 8), 3)  # exact: 0.05 and 0.05
    (0.05, 0.05)
    """
    if x <= 0.0:
        return 1.0
    k = 2.0 / (9.0 * dof)
    z = ((x / dof) ** (1.0 / 3.0) - (1.0 - k)) / math.sqrt(k)
    return 0.5 * math.erfc(z / math.sqrt(2.0))


class Mahalanobis(Detector[Point]):
    """Score = calibrated tail of the reading's Mahalanobis distance from the learnt normal.

    >>> import random
    >>> from datetime import datetime, timedelta, timezone
    >>> rng, t0 = random.Random(1), datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> det = Mahalanobis.from_params({"warmup": 200, "warmup_s": 0})
    >>> def reading(i, load, pressure_drop=0.0):  # flow, pressure and current follow the load
    ...     ch = {"flow": 10 * load + rng.gauss(0, 1), "current": 3 * load + rng.gauss(0, 0.5),
    ...           "pressure": 2 * load + rng.gauss(0, 0.3) - pressure_drop}
    ...     return Point(t0 + timedelta(minutes=i), ch["flow"], ch)
    >>> for i in range(600):
    ...     det.learn_one(reading(i, rng.uniform(4, 6)))
    >>> normal, broken = reading(600, 6.5), reading(601, 5.0, pressure_drop=3.0)
    >>> det.score_one(normal) < 0.2, det.score_one(broken) > 0.9
    (True, True)
    >>> shares = {k: v for k, v in det.indicators(broken).items() if k.startswith("share.")}
    >>> max(shares, key=shares.__getitem__)
    'share.pressure'

    >>> shares = {k: v for k, v in det.indicators(broken).items() if k.startswith("share.")}
    >>> max(shares, key=shares.__getitem__)
    'share.pressure'
    """

    kind = "mahalanobis"
    version = 1

    def __init__(
        self,
        warmup: int = 100,
        warmup_s: float = 86400.0,
        forget: float = 0.001,
        shrink: float = 0.001,
        hold: float = 0.4,
        max_channels: int = 16,
    ) -> None:
        if warmup < 2 or warmup_s < 0 or not 0.0 < forget < 1.0 or not 0.0 <= shrink < 1.0:
            raise ValueError(
                "mahalanobis: need warmup >= 2, warmup_s >= 0, 0 < forget < 1, 0 <= shrink < 1"
            )
        if not 0.0 < hold <= 1.0 or not 1 <= max_channels <= 64:
            raise ValueError("mahalanobis: need hold in (0, 1], max_channels in [1, 64]")
        self.warmup, self.warmup_s, self.forget, self.shrink = warmup, warmup_s, forget, shrink
        self.hold, self.max_channels = hold, max_channels
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self.first_t: float | None = None  # event time (Unix s) of the first reading learnt
        self.last_t = 0.0  # and of the latest
        self.channels: list[str] = []
        self.mean = np.zeros(0)
        self.cov = np.zeros((0, 0))
        self._inv: np.ndarray | None = None  # the shrunk covariance's inverse, made when needed

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        return cls(**typed_params(cls.kind, params, _PARAMS))

    @classmethod
    def sample_params(cls) -> dict[str, Any]:
        return {}

    @staticmethod
    def default_trigger() -> Trigger:
        return Trigger(threshold=0.4, clear=0.2)

    # -- the model -------------------------------------------------------------

    def _vector(self, x: Point) -> np.ndarray | None:
        values = x.values or {"value": x.value}
        if not self.channels:
            return None
        out = self.mean.copy()
        for i, name in enumerate(self.channels):
            v = values.get(name)
            if v is not None and math.isfinite(v):
                out[i] = v
        return out

    def _inverse(self) -> np.ndarray:
        if self._inv is None:
            var = np.diag(self.cov)
            shrunk = (1.0 - self.shrink) * self.cov
            # the diagonal kept whole, plus a ridge so that a constant channel inverts
            shrunk[np.diag_indices_from(shrunk)] = var + max(float(var.max()), 1e-12) * 1e-6
            try:
                self._inv = np.linalg.inv(shrunk)
            except np.linalg.LinAlgError:  # pragma: no cover - the ridge makes this rare
                self._inv = np.linalg.pinv(shrunk)
        return self._inv

    def _distance(self, v: np.ndarray) -> tuple[float, np.ndarray]:
        """``T²`` of ``v`` and each channel's reconstruction-based contribution."""
        inv = self._inverse()
        with np.errstate(over="ignore", invalid="ignore"):
            d = v - self.mean
            pulled = inv @ d
            t2 = float(d @ pulled)
            blame = pulled * pulled / np.maximum(np.diag(inv), 1e-300)
        if not math.isfinite(t2):
            t2 = math.inf  # overflowed: further out than anything seen
        return max(t2, 0.0), blame

    def score_one(self, x: Point) -> float:
        if not self.is_warm():
            return 0.0
        v = self._vector(x)
        if v is None or not np.all(np.isfinite(v)):
            return 0.0
        t2, _ = self._distance(v)
        p = chi2_tail(t2, len(self.channels))
        return clamp01(math.log(p + 1e-10) / _LOG_FLOOR)

    def learn_one(self, x: Point) -> None:
        if not self.channels:
            values = x.values or {"value": x.value}
            names = [k for k, v in values.items() if math.isfinite(v)][: self.max_channels]
            if not names:
                return
            self.channels = names
            self.mean = np.zeros(len(names))
            self.cov = np.zeros((len(names), len(names)))
        v = self._vector(x)
        if v is None or not np.all(np.isfinite(v)):
            return
        t = x.t.timestamp()
        self.first_t = t if self.first_t is None else self.first_t
        self.last_t = max(self.last_t, t)
        if self.is_warm() and self.score_one(x) >= self.hold:
            self.n += 1
            return  # an alarm's reading is not learnt as normal
        self._update(v)

    def _update(self, v: np.ndarray) -> None:
        self.n += 1
        w = max(self.forget, 1.0 / self.n)
        d = v - self.mean
        self.mean = self.mean + w * d
        self.cov = (1.0 - w) * (self.cov + w * np.outer(d, d))
        self._inv = None

    def recheck_learn(self, x: Point, healthy: bool) -> None:
        """Healthy readings only, as :meth:`learn_one` learns them."""
        if healthy:
            v = self._vector(x)
            if v is not None and np.all(np.isfinite(v)):
                self._update(v)

    def is_warm(self) -> bool:
        """At least ``warmup`` readings over at least ``warmup_s`` (a day: a daily cycle's
        every load has been seen before anything is judged)."""
        return (
            self.n >= self.warmup
            and self.first_t is not None
            and self.last_t - self.first_t >= self.warmup_s
        )

    def baseline(self) -> float | None:
        return float(self.mean[0]) if self.channels and self.n else None

    def indicators(self, x: Point) -> dict[str, float]:
        """The reading's channels, and each one's share of the distance (who moved)."""
        out = {"value": x.value, **dict(list(x.values.items())[:15])}
        v = self._vector(x)
        if v is None or self.n < 2 or not np.all(np.isfinite(v)):
            return out
        t2, blame = self._distance(v)
        total = float(np.sum(blame))
        if math.isfinite(t2):
            out["t2"] = t2
        if total > 0.0 and math.isfinite(total):
            for name, b in list(zip(self.channels, blame, strict=True))[:15]:
                out[f"share.{name}"] = round(float(b) / total, 4)
        return out

    # -- state -----------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "t": [self.first_t, self.last_t],
            "ch": self.channels,
            "mu": self.mean.tolist(),
            "cov": self.cov.tolist(),
        }

    def load(self, state: Mapping[str, Any]) -> None:
        self._reset()
        self.n = int(state["n"])
        first, last = state["t"]
        self.first_t = None if first is None else float(first)
        self.last_t = float(last)
        self.channels = [str(c) for c in state["ch"]]
        d = len(self.channels)
        self.mean = np.array(state["mu"], dtype=float).reshape(d)
        self.cov = np.array(state["cov"], dtype=float).reshape(d, d)
