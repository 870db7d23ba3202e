"""Exponentially weighted mean and variance with a tiny JSON state.

A building block of the learned detectors (reading → **signal**). river's own
EW statistics are implemented in Rust and expose no state to serialize, so
this one is written out: West's incremental EW update, three numbers.
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
    """

    alpha: float
    mean: float = 0.0
    var: float = 0.0
    n: int = 0

    def update(self, x: float) -> None:
        if self.n == 0:
            self.mean, self.var = x, 0.0
        else:
            diff = x - self.mean
            incr = self.alpha * diff
            self.mean += incr
            self.var = (1.0 - self.alpha) * (self.var + diff * incr)
        self.n += 1

    @property
    def std(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def to_list(self) -> list[float]:
        """Compact state: [n, mean, var] (full precision: a restore must behave identically)."""
        return [self.n, self.mean, self.var]

    @classmethod
    def from_list(cls, alpha: float, data: list[float]) -> EW:
        n, mean, var = data
        return cls(alpha=alpha, mean=float(mean), var=float(var), n=int(n))
