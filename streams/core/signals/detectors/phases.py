"""The hour-of-day context of the ``likelihood`` detector: levels counted per phase of the day.

(reading → **signal** → ...) Many city streams have a daily rhythm: gas and water use,
road speed, a resident's activity at home. A value that is common over the day can be
rare at this hour (water running at 3 a.m., a road slow at noon), and a morning peak that
does not come is a sequence of common levels. :class:`Phases` gives
:class:`~streams.core.signals.detectors.likelihood.Likelihood` that context: the day is cut
into ``phases`` equal parts of UTC time (any fixed offset would do: the counts learn the
local rhythm), and a table of 4-bit counts holds, per phase, how often each level was
seen there (levels below and above the quantiser's range clipped to one each). All
counts are halved whenever one reaches 15, so old days fade (within a week or two at a
few blocks per part of the day).

The surprise of a level at a phase is ``-log2 p``, with ``p`` = (count of the level at
this phase + ``backoff`` times its share over all phases) / (count at this phase +
``backoff``): a phase not seen yet falls back to the level's share of the day. Its
recent mean is judged, like each time scale's, as a tail probability of its own history
(:class:`~streams.core.signals.detectors.scales.Stats`). State: ``phases * (levels + 2)``
counts, two to a byte, in base64, and the statistics.

>>> ph = Phases(phases=4, levels=2)
>>> for _ in range(20):
...     ph.count(0, 1)  # quarter 0 (00:00-06:00 UTC): always level 1
...     ph.count(2, 3)  # quarter 2: always level 3 (above the range)
>>> ph.surprise(0, 1) < 0.1, ph.surprise(0, 3) > 4, ph.phase_of(13 * 3600.0)
(True, True, 2)
>>> back = Phases.loaded(ph.stored(), phases=4, levels=2)
>>> back.surprise(0, 3) == ph.surprise(0, 3)
True
"""

from __future__ import annotations

import base64
import math
from typing import Any, Self

from streams.core.signals.detectors.scales import Stats

_DAY_S = 86_400.0
_FULL = 15  # a count this high halves them all: 4 bits each


class Phases:
    """Counts of levels per phase of the day, and the statistics of their surprise."""

    __slots__ = (
        *("block", "by_level", "by_phase", "counts", "filled"),
        *("levels", "phases", "stats", "total"),
    )

    def __init__(self, phases: int, levels: int) -> None:
        if not 1 <= phases <= 96:
            raise ValueError(f"likelihood: phases must be 0 (off) or 1-96, got {phases}")
        self.phases, self.levels = phases, levels
        self.counts = bytearray(phases * (levels + 2))
        self.stats = Stats()
        self.block = 0.0  # sum of the block of readings being filled (judged by its mean)
        self.filled = 0  # readings in it
        self._sum()

    def _sum(self) -> None:
        """The counts' totals per phase, per level and in all (kept as counts move)."""
        width, counts = self.levels + 2, self.counts
        self.by_phase = [sum(counts[p * width : (p + 1) * width]) for p in range(self.phases)]
        self.by_level = [sum(counts[lv::width]) for lv in range(width)]
        self.total = sum(self.by_phase)

    def add(self, v: float, block: int) -> float | None:
        """Add reading ``v`` to the block being filled; the block's mean once it has
        ``block`` readings (and a new block begins), else ``None``."""
        self.block += v
        self.filled += 1
        if self.filled < block:
            return None
        mean = self.block / block
        self.block, self.filled = 0.0, 0
        return mean

    def phase_of(self, t: float) -> int:
        """The phase of the day of Unix time ``t`` (seconds)."""
        return min(int((t % _DAY_S) / _DAY_S * self.phases), self.phases - 1)

    def _cell(self, phase: int, level: int) -> int:
        width = self.levels + 2
        return phase * width + min(max(level, -1), self.levels) + 1

    def surprise(self, phase: int, level: int, backoff: float = 0.1) -> float:
        """``-log2`` of how probable ``level`` is at ``phase`` (the module's formula)."""
        width = self.levels + 2
        cell = self._cell(phase, level)
        share = (self.by_level[cell - phase * width] + 1.0) / (self.total + width)
        return -math.log2((self.counts[cell] + backoff * share) / (self.by_phase[phase] + backoff))

    def count(self, phase: int, level: int) -> None:
        """Count ``level`` at ``phase``; halve every count once one is full."""
        cell = self._cell(phase, level)
        self.counts[cell] += 1
        if self.counts[cell] == _FULL:
            self.counts = bytearray(c >> 1 for c in self.counts)
            self._sum()
        else:
            self.by_phase[phase] += 1
            self.by_level[cell - phase * (self.levels + 2)] += 1
            self.total += 1

    def stored(self) -> list[Any]:
        s = self.stats
        c = self.counts + bytearray(len(self.counts) % 2)  # two 4-bit counts to a byte
        counts = base64.b64encode(
            bytes(a | b << 4 for a, b in zip(c[::2], c[1::2], strict=True))
        ).decode()
        return [counts, s.recent, s.k, s.mean, s.var, self.block, self.filled]

    @classmethod
    def loaded(cls, stored: list[Any], phases: int, levels: int) -> Self:
        """Phases from :meth:`stored`; ``ValueError`` if its table does not fit."""
        counts, recent, k, mean, var, block, filled = stored
        ph = cls(phases, levels)
        packed = base64.b64decode(counts)
        raw = bytearray(n for b in packed for n in (b & 0xF, b >> 4))[: len(ph.counts)]
        if len(packed) != (len(ph.counts) + 1) // 2:
            raise ValueError(
                f"likelihood: state has {2 * len(packed)} phase counts, expected {len(ph.counts)}"
            )
        ph.counts = bytearray(raw)
        ph._sum()
        ph.stats.recent = [float(r) for r in recent]
        ph.stats.k, ph.stats.mean, ph.stats.var = int(k), float(mean), float(var)
        ph.block, ph.filled = float(block), int(filled)
        return ph
