"""One time scale of the ``likelihood`` detector: its counts, its surprise statistics, stored.

(reading → **signal** → ...) :class:`~streams.core.signals.detectors.likelihood.Likelihood`
keeps one :class:`Scale` per time scale: the block of readings being averaged, the last
two levels (the context of a step), a fixed table of 16-bit counts and the running
mean and variance of the scale's recent surprise. This module holds the scale and its
state as the sensor's JSON keeps it: the counts in base64, little-endian on every
machine, so a state written on one machine loads on any other.

>>> sc = Scale(64)
>>> sc.counts[3] = 7
>>> back = Scale.loaded(sc.stored(), 64)
>>> back.counts[3], back.l1, back.recent
(7, None, [])
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import Any, Self

_SWAP = sys.byteorder != "little"  # the state's counts are little-endian on every machine


class Stats:
    """The running statistics of a stream of surprises: the last ``avg_n`` of them and the
    mean and variance of their mean, with forgetting (shared by every scale and phases)."""

    __slots__ = ("k", "mean", "recent", "var")

    def __init__(self) -> None:
        self.recent: list[float] = []  # the last avg_n surprises
        self.k = 0  # means seen so far (capped): the first ones are averaged plainly
        self.mean = 0.0
        self.var = 0.0

    def add(self, surprise: float, avg_n: int, forget: float) -> None:
        """Append ``surprise`` and move the mean and variance of the recent mean."""
        recent = self.recent
        recent.append(surprise)
        if len(recent) > avg_n:
            del recent[0]
        avg = sum(recent) / len(recent)
        self.k = min(self.k + 1, 1 << 30)
        w = max(forget, 1.0 / self.k)
        d = avg - self.mean
        self.mean += w * d
        self.var = (1.0 - w) * (self.var + w * d * d)


class Scale(Stats):
    """One time scale: the block being filled, the last two levels, the counts and the
    running statistics of its surprise."""

    __slots__ = ("block", "counts", "filled", "l1", "l2", "steps")

    def __init__(self, buckets: int) -> None:
        self.counts = array("H", bytes(2 * buckets))
        self.block = 0.0  # sum of the block being filled
        self.filled = 0  # readings in it
        self.l1: int | None = None  # the level before
        self.l2: int | None = None  # the one before that
        self.steps = 0  # steps counted since the last halving
        super().__init__()

    def stored(self) -> list[Any]:
        """The scale's state as stored (its counts in base64, little-endian)."""
        counts = self.counts
        if _SWAP:
            counts = array("H", counts)
            counts.byteswap()
        text = base64.b64encode(counts.tobytes()).decode("ascii")
        return [
            *(text, self.block, self.filled, self.l1, self.l2, self.steps),
            *(self.recent, self.k, self.mean, self.var),
        ]

    @classmethod
    def loaded(cls, stored: list[Any], buckets: int) -> Self:
        """A scale from :meth:`stored`; ``ValueError`` if its table is not ``buckets`` long."""
        counts, block, filled, l1, l2, steps, recent, k, mean, var = stored
        raw = base64.b64decode(counts)
        if len(raw) != 2 * buckets:
            raise ValueError(f"likelihood: state has {len(raw) // 2} buckets, expected {buckets}")
        sc = cls(buckets)
        sc.counts = array("H")
        sc.counts.frombytes(raw)
        if _SWAP:
            sc.counts.byteswap()
        sc.block, sc.filled, sc.steps = float(block), int(filled), int(steps)
        sc.l1 = None if l1 is None else int(l1)
        sc.l2 = None if l2 is None else int(l2)
        sc.recent = [float(r) for r in recent]
        sc.k, sc.mean, sc.var = int(k), float(mean), float(var)
        return sc
