"""Exponentially weighted mean and variance with a tiny JSON state.

A building block of the learned detectors (reading → **signal**). river's own
EW statistics are implemented in Rust and expose no state to serialize, so
this one is written out: West's incremental EW update, three numbers.

``warm_start`` statistics weigh their first ``1 / alpha`` values equally (the
weight of value *n* is ``max(alpha, 1 / n)``), so a young estimate is the plain
sample mean and variance instead of one biased towards its first value; after
that they are ordinary EW statistics. :func:`weight_sq` gives the sum of the
squared weights of such an estimate, from which its effective sample size and
the spread of a *new* value around it follow (:func:`predictive_std`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class EW:
    """EW mean/variance with fading factor ``alpha`` (weight of the newest value).

    >>> s = EW(alpha=0.5)
    >>> for x in (1.0, 2.0, 3.0):
    ...     s.update(x)
    >>> round(s.mean, 3), round(s.var, 3), s.n
    (2.25, 0.688, 3)
    >>> w = EW(alpha=0.05, warm_start=True)
    >>> for x in (1.0, 2.0, 3.0):
    ...     w.update(x)
    >>> round(w.mean, 3), round(w.var, 3)  # the sample mean and (population) variance
    (2.0, 0.667)
    """

    alpha: float
    mean: float = 0.0
    var: float = 0.0
    n: int = 0
    warm_start: bool = False

    def update(self, x: float) -> None:
        if self.n == 0:
            self.mean, self.var = x, 0.0
        else:
            a = max(self.alpha, 1.0 / (self.n + 1)) if self.warm_start else self.alpha
            diff = x - self.mean
            incr = a * diff
            self.mean += incr
            self.var = (1.0 - a) * (self.var + diff * incr)
        self.n += 1

    @property
    def std(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def to_list(self) -> list[float]:
        """Compact state: [n, mean, var] (full precision: a restore must behave identically)."""
        return [self.n, self.mean, self.var]

    @classmethod
    def from_list(cls, alpha: float, data: list[float], warm_start: bool = False) -> EW:
        n, mean, var = data
        return cls(alpha=alpha, mean=float(mean), var=float(var), n=int(n), warm_start=warm_start)


def weight_sq(n: int, alpha: float) -> float:
    """Sum of the squared weights of a ``warm_start`` estimate after ``n`` values.

    ``1 / weight_sq`` is the estimate's effective sample size: ``n`` while the
    values are weighed equally, then tending to ``(2 - alpha) / alpha``.

    >>> weight_sq(4, 0.05), round(1 / weight_sq(10_000, 0.05), 1)
    (0.25, 39.0)
    """
    if n <= 0:
        return 1.0
    equal = max(1, min(n, math.floor(1.0 / alpha)))
    s2 = 1.0 / equal
    steps = n - equal
    if steps > 0:  # s2 <- (1 - a)^2 s2 + a^2, in closed form
        keep = (1.0 - alpha) ** (2 * steps)
        fixed = alpha * alpha / (1.0 - (1.0 - alpha) ** 2)
        s2 = keep * s2 + (1.0 - keep) * fixed
    return s2


def predictive_std(var: float, s2: float) -> float:
    """Spread of a new value around a weighted mean with weights' square sum ``s2``.

    The weighted (population) variance is corrected for its bias (``/ (1 - s2)``)
    and widened by the uncertainty of the mean itself (``* (1 + s2)``): with few
    values behind an estimate, a new value is judged with their uncertainty.

    >>> round(predictive_std(1.0, 1 / 5), 3)  # 5 equal weights
    1.225
    """
    if s2 >= 1.0:
        return math.inf
    return math.sqrt(max(var, 0.0) / (1.0 - s2) * (1.0 + s2))
