"""Likelihood detector: how improbable the recent sequence of levels is, on a calibrated scale.

(reading → **signal** → alert → ...) For a stream nobody has tuned: the score is a tail
probability of its own recent surprise, so one threshold means the same on every stream.
Five steps, all online, with nothing from the future:

1. **Levels.** Values are quantised into ``levels`` bins over the range of the
   first ``range_n`` readings, spanning at least ``range_s`` seconds of event
   time (a sensor that reports every minute should see a whole day's cycle);
   beyond that range the bins go on, open-ended, so a value far outside gets a
   level of its own. Nothing is judged before ``warmup`` readings over at least
   ``warmup_s`` seconds.
2. **Surprise at several time scales.** At scale 1 every reading is a step; at
   scale ``k`` the mean of each block of ``k`` readings is. Each scale keeps one
   table of ``buckets`` counts indexed by an integer key (modulo its size), halved
   whenever it has seen ``half_life`` steps. Each step to ``level`` from ``l1``
   (and ``l2`` before it) adds one at six keys: 0, ``level - 1``, the step
   ``level - l1 - 2``, ``level - l1 + l2 - 3``, ``-l1 - 12`` and the step before
   ``l2 - l1 - 13``. The surprise is ``-log2 p``, where ``p`` starts as the
   level's count over all (add-one) and is replaced by (count at the step's
   key + ``backoff`` p) / (count at ``l1``'s key + ``backoff``), then by (count
   at the third key + ``backoff`` p) / (count at the step before's key +
   ``backoff``). Keys that coincide share a cell, so ``p`` is a statistic, not
   a probability (it can pass 1): it is large where a common level, step and
   turn follow a common level and step, and small at the onset of a change. It
   began as a hashed Markov model of levels whose hash depended only on this
   sum of its parts; a correct hash of that model, or of steps, scored lower
   held out (docs/detection.md), so this is the model, written as it counts.
3. **Anomaly likelihood** (after Numenta's HTM): per scale, the mean of the last
   ``avg_n`` surprises against a Gaussian of their history (mean and variance
   with forgetting ``forget``): the upper tail probability ``p`` of that mean
   becomes the score ``log(p + 1e-10) / log(1e-10)``: 0.5 at ``p = 1e-5``,
   1.0 at ``p = 1e-10``.
4. **Spatial rule and rest.** A value beyond the whole range seen so far by more
   than ``spatial_tol`` of its width scores at least ``spatial`` (more the
   further out it is); the score is the largest of the scales' and the spatial
   one. After a score of ``rest_level`` or more the detector rests (scores 0)
   for ``rest_s`` seconds of event time, so one incident is one signal; it
   re-arms sooner once its score has stayed under half of ``rest_level`` for
   ``calm_s`` seconds, so a second incident after a calm is a signal of its own.
5. **Hour of day** (``phases`` parts of the day, 24; 0 turns it off). How rare the mean
   level of each block of ``phase_block`` readings is at this part of the day
   (:mod:`~streams.core.signals.detectors.phases`) is judged like a scale, once it
   has learnt as long as the first scale must. On by default (chosen by the NAB
   cross-validation); the catalogue's 30-60-minute sensors turn it off
   (docs/detection.md says why).

The defaults are what ``benchmarks/nab_cv.py`` chose on NAB by two-fold cross-validation
over its files (docs/detection.md has the protocol and the figures). State is fixed in
size: ``buckets`` 16-bit counts per scale (base64 in JSON) and a few numbers per scale,
under 3.5 KB with the defaults.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Self

from streams.core.signals.detectors.base import Detector, Point, clamp01, typed_params
from streams.core.signals.detectors.phases import Phases
from streams.core.signals.detectors.scales import Scale, Stats
from streams.core.signals.trigger import Trigger

#: Each parameter and how a catalogue value becomes it.
_PARAMS: dict[str, Any] = {
    **dict.fromkeys(("levels", "range_n", "warmup", "buckets", "half_life", "avg_n"), int),
    **dict.fromkeys(("phases", "phase_block"), int),
    **dict.fromkeys(("forget", "backoff", "spatial", "spatial_tol", "rest_level", "rest_s"), float),
    **dict.fromkeys(("range_s", "warmup_s", "calm_s"), float),
    "scales": lambda v: tuple(int(k) for k in v),
}
_MAX_LEVEL = 1_000
_LOG_FLOOR = math.log(1e-10)
_MIN_VAR = 1e-4


class Likelihood(Detector[Point]):
    """Score = how improbable the recent surprise is, per scale; plus a spatial rule.

    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> det = Likelihood.from_params({"range_n": 50, "warmup": 400, "rest_s": 0})
    >>> for i in range(1200):
    ...     det.learn_one(Point(t0 + timedelta(minutes=i), float(i % 12)))
    >>> t = t0 + timedelta(minutes=1200)
    >>> det.is_warm(), det.score_one(Point(t, 0.0)) < 0.3, det.score_one(Point(t, 40.0)) >= 0.9
    (True, True, True)
    """

    kind = "likelihood"
    version = 1

    def __init__(
        self,
        levels: int = 8,
        range_n: int = 150,
        warmup: int = 200,
        scales: tuple[int, ...] = (1, 32),
        buckets: int = 512,
        half_life: int = 4000,
        avg_n: int = 10,
        forget: float = 0.0002,
        backoff: float = 0.1,
        spatial: float = 0.6,
        spatial_tol: float = 0.01,
        rest_level: float = 0.4,
        rest_s: float = 36000.0,
        calm_s: float = 3600.0,
        range_s: float = 0.0,
        warmup_s: float = 0.0,
        phases: int = 24,
        phase_block: int = 4,
    ) -> None:
        if levels < 2:
            raise ValueError(f"likelihood: levels must be >= 2, got {levels}")
        if not 1 <= range_n <= warmup:
            raise ValueError(f"likelihood: need 1 <= range_n <= warmup, got {range_n}, {warmup}")
        if not scales or min(scales) < 1 or len(set(scales)) != len(scales):
            raise ValueError(f"likelihood: scales must be distinct integers >= 1, got {scales}")
        if not 64 <= buckets <= 8192 or buckets & (buckets - 1):
            raise ValueError(f"likelihood: buckets must be a power of two, 64-8192: {buckets}")
        if half_life < 16 or avg_n < 1 or not 0.0 < forget < 1.0 or backoff <= 0:
            raise ValueError(
                "likelihood: need half_life >= 16, avg_n >= 1, 0 < forget < 1, backoff > 0"
            )
        if not 0.0 <= spatial <= 1.0 or spatial_tol < 0 or not 0.0 < rest_level <= 1.0:
            raise ValueError(
                "likelihood: need spatial in [0, 1], spatial_tol >= 0, rest_level in (0, 1]"
            )
        if min(rest_s, calm_s, range_s, warmup_s) < 0:
            raise ValueError("likelihood: rest_s, calm_s, range_s and warmup_s must be >= 0")
        self.range_s, self.warmup_s = range_s, warmup_s
        self.levels, self.range_n, self.warmup = levels, range_n, warmup
        self.scales = tuple(sorted(scales))
        self.buckets, self.half_life, self.avg_n, self.forget = buckets, half_life, avg_n, forget
        self.spatial, self.rest_level, self.rest_s = spatial, rest_level, rest_s
        self.calm_s = calm_s
        self.backoff, self.spatial_tol = backoff, spatial_tol
        self._mask = buckets - 1
        if phase_block < 1:
            raise ValueError(f"likelihood: phase_block must be >= 1, got {phase_block}")
        self.phases, self.phase_block = phases, phase_block
        if phases:
            Phases(phases, levels)  # fails here on a bad count, not at the first reading
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self.lo0, self.hi0 = math.inf, -math.inf  # the warm-up's range: the quantiser
        self.lo, self.hi = math.inf, -math.inf  # the whole range seen: the spatial rule
        self.step = 0.0  # the quantiser's bin width: 0 while the range is still being learnt
        self.t0: float | None = None  # event time (Unix s) of the first reading learnt
        self.warm = False
        self.rest_until = -math.inf  # event time (Unix s) before which it rests
        self.stirred = -math.inf  # the last time (Unix s) it was not calm while resting
        self._scales = [Scale(self.buckets) for _ in self.scales]
        self._phases = Phases(self.phases, self.levels) if self.phases else None
        # the last reading scored: its score and each scale's surprise (None: no block ends)
        self._cache: tuple[Point, float, list[float | None]] | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        return cls(**typed_params(cls.kind, params, _PARAMS))

    @classmethod
    def sample_params(cls) -> dict[str, Any]:
        """The parameters measured on NAB: the defaults, chosen by ``benchmarks.nab_cv``."""
        return {}

    @staticmethod
    def default_trigger() -> Trigger:
        """Fire where it starts resting: a tail probability of about 1e-4."""
        return Trigger(threshold=0.4, clear=0.2)

    # -- the model -------------------------------------------------------------

    def _level(self, v: float) -> int:
        b = math.floor((v - self.lo0) / self.step)
        return -_MAX_LEVEL if b < -_MAX_LEVEL else _MAX_LEVEL if b > _MAX_LEVEL else b

    def _slot(self, key: int) -> int:
        """The cell of an integer key: a fixed odd multiple modulo the table's size (a
        permutation of the cells, kept so that every stored state keeps its meaning)."""
        return (key * 2654435761) & self._mask

    @staticmethod
    def _keys(sc: Scale, level: int) -> tuple[int, int, int, int, int]:
        """The five keys of a step to ``level``: its level, its step, its level less the
        step before, the level before and the step before, each offset as counted."""
        l1 = sc.l1 if sc.l1 is not None else level
        l2 = sc.l2 if sc.l2 is not None else l1
        return level - 1, level - l1 - 2, level - l1 + l2 - 3, -l1 - 12, l2 - l1 - 13

    def _surprise(self, sc: Scale, level: int) -> float:
        """``-log2`` of the chain of count ratios (the module's step 2)."""
        counts, slot, b = sc.counts, self._slot, self.backoff
        k_level, k_step, k_turn, k_before, k_step_before = self._keys(sc, level)
        p = (counts[slot(k_level)] + 1.0) / (counts[slot(0)] + self.levels + 2.0)
        p = (counts[slot(k_step)] + b * p) / (counts[slot(k_before)] + b)
        p = (counts[slot(k_turn)] + b * p) / (counts[slot(k_step_before)] + b)
        return -math.log2(p)

    def _count(self, sc: Scale, level: int) -> None:
        counts, slot = sc.counts, self._slot
        for i in (slot(0), *(slot(k) for k in self._keys(sc, level))):
            if counts[i] < 0xFFFF:
                counts[i] += 1
        sc.steps += 1
        if sc.steps >= self.half_life:  # forget: every count halved
            for i, c in enumerate(counts):
                if c:
                    counts[i] = c >> 1
            sc.steps = 0

    def _tail_score(self, sc: Stats, surprise: float, typical: bool = False) -> float:
        """The score of the scale's mean recent surprise with ``surprise`` appended
        (``typical``: appended to a window of typical surprises, the mean learnt)."""
        n = self.avg_n
        if typical:
            avg = ((n - 1) * sc.mean + surprise) / n
        else:
            recent = sc.recent[-(n - 1) :] if n > 1 else []
            avg = (sum(recent) + surprise) / (len(recent) + 1)
        sd = math.sqrt(max(sc.var, _MIN_VAR))
        z = (avg - sc.mean) / sd
        p = 0.5 * math.erfc(z / math.sqrt(2.0))
        return clamp01(math.log(p + 1e-10) / _LOG_FLOOR)

    def _scored(self, x: Point, typical: bool = False) -> tuple[Point, float, list[float | None]]:
        """``x``, its score without the rest period, and each scale's surprise."""
        v = x.value
        score = 0.0
        surprises: list[float | None] = []
        span = self.hi - self.lo
        out = max(v - self.hi, self.lo - v) - self.spatial_tol * span
        if out > 0.0:
            score = self.spatial + (1.0 - self.spatial) * min(1.0, out / span if span else 1.0)
        for k, sc in zip(self.scales, self._scales, strict=True):
            if sc.filled + 1 < k:
                surprises.append(None)  # this reading completes no block of this scale
                continue
            surprise = self._surprise(sc, self._level((sc.block + v) / k))
            surprises.append(surprise)
            score = max(score, self._tail_score(sc, surprise, typical))
        ph, k = self._phases, self.phase_block
        if ph is not None and ph.filled + 1 >= k:  # a block ends: judged once it has
            # learnt as long as the first scale must
            level = self._level((ph.block + v) / k)
            surprise = ph.surprise(ph.phase_of(x.t.timestamp()), level, self.backoff)
            surprises.append(surprise)
            if ph.stats.k * k >= self.warmup - self.range_n:
                score = max(score, self._tail_score(ph.stats, surprise, typical))
        elif ph is not None:
            surprises.append(None)
        return x, clamp01(score), surprises

    def score_one(self, x: Point) -> float:
        if not self.warm or not math.isfinite(x.value):
            return 0.0
        self._cache = cached = self._scored(x)
        return 0.0 if x.t.timestamp() < self.rest_until else cached[1]

    def recheck_score(self, x: Point) -> float:
        """The score without the rest period, each scale's surprise among typical ones: the
        reading against the normal known at the alarm, not against the recent past."""
        if not self.warm or not math.isfinite(x.value):
            return self.score_one(x)  # no alarm comes before warm-up: nothing to re-check
        return self._scored(x, typical=True)[1]

    def recheck_learn(self, x: Point, healthy: bool) -> None:
        """Learn nothing (range, counts and statistics stay as at the alarm, so readings of
        the incident that pass as healthy cannot widen the range or raise the recent
        surprise until normal ones fail); a healthy reading moves the sequence on, so the
        next is judged from the level it follows, and an unhealthy one does not, so a
        level that persists stays as improbable as at the alarm."""
        if healthy and math.isfinite(x.value):
            for k, sc in zip(self.scales, self._scales, strict=True):
                sc.block += x.value
                sc.filled += 1
                if sc.filled == k:
                    sc.l2, sc.l1 = sc.l1, self._level(sc.block / k)
                    sc.block, sc.filled = 0.0, 0
            if self._phases is not None:
                self._phases.add(x.value, self.phase_block)

    def learn_one(self, x: Point) -> None:
        v = x.value
        if not math.isfinite(v):
            return
        t = x.t.timestamp()
        if self.t0 is None:
            self.t0 = t
        ranged = self.step != 0.0
        if not ranged:
            self.lo0, self.hi0 = min(self.lo0, v), max(self.hi0, v)
            if self.n + 1 >= self.range_n and t - self.t0 >= self.range_s:
                span = self.hi0 - self.lo0
                self.step = span / self.levels if span > 0 else max(abs(self.lo0) * 0.01, 1e-9)
        cached = self._cache if self._cache is not None and self._cache[0] is x else None
        self._cache = None
        if self.warm:
            if cached is None:
                cached = self._scored(x)
            if t < self.rest_until:  # resting: re-armed after calm_s of calm
                if cached[1] >= self.rest_level / 2:
                    self.stirred = t
                elif t - self.stirred >= self.calm_s:
                    self.rest_until = t
            if cached[1] >= self.rest_level and t >= self.rest_until:
                self.rest_until, self.stirred = t + self.rest_s, t
        if ranged:
            self._learn_scales(v, t, cached[2] if cached is not None else None)
        self.lo, self.hi = min(self.lo, v), max(self.hi, v)
        self.n += 1
        if not self.warm and self.n >= self.warmup and t - self.t0 >= self.warmup_s:
            # and the scales learnt warmup - range_n (ranging may outlast range_n readings)
            self.warm = self._scales[0].k * self.scales[0] >= self.warmup - self.range_n

    def _learn_scales(self, v: float, t: float, known: list[float | None] | None) -> None:
        """Move every scale (and the phases) on by ``v`` at ``t``; ``known``: the surprises
        its scoring worked out."""
        for i, (k, sc) in enumerate(zip(self.scales, self._scales, strict=True)):
            sc.block += v
            sc.filled += 1
            if sc.filled < k:
                continue
            level = self._level(sc.block / k)
            sc.block, sc.filled = 0.0, 0
            s = known[i] if known is not None else None
            if s is None:
                s = self._surprise(sc, level)
            sc.add(s, self.avg_n, self.forget)
            self._count(sc, level)
            sc.l2, sc.l1 = sc.l1, level
        ph = self._phases
        mean = None if ph is None else ph.add(v, self.phase_block)
        if ph is not None and mean is not None:
            phase, level = ph.phase_of(t), self._level(mean)
            s = known[-1] if known is not None else None
            s = ph.surprise(phase, level, self.backoff) if s is None else s
            ph.stats.add(s, self.avg_n, self.forget)
            ph.count(phase, level)

    def is_warm(self) -> bool:
        return self.warm

    def baseline(self) -> float | None:
        sc = self._scales[0]
        if self.step == 0.0 or sc.l1 is None:
            return None
        return self.lo0 + (sc.l1 + 0.5) * self.step

    def indicators(self, x: Point) -> dict[str, float]:
        out = {"value": x.value}
        if self.step:
            out["level"] = float(self._level(x.value))
            out["range_lo"], out["range_hi"] = self.lo, self.hi
        return out

    def state(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            "n": self.n,
            "r": [num(self.lo0), num(self.hi0), num(self.lo), num(self.hi), self.step],
            "q": num(self.rest_until),
            "c": num(self.stirred),
            "t": None if self.t0 is None else num(self.t0),
            "w": self.warm,
            "s": [sc.stored() for sc in self._scales],
            **({"p": self._phases.stored()} if self._phases is not None else {}),
        }

    def load(self, state: Mapping[str, Any]) -> None:
        self._reset()
        self.n = int(state["n"])
        lo0, hi0, lo, hi, step = state["r"]
        self.lo0 = math.inf if lo0 is None else float(lo0)
        self.hi0 = -math.inf if hi0 is None else float(hi0)
        self.lo = math.inf if lo is None else float(lo)
        self.hi = -math.inf if hi is None else float(hi)
        self.step = float(step)
        q = state.get("q")
        self.rest_until = -math.inf if q is None else float(q)
        c = state.get("c")  # absent (an older state): calm since its last signal
        self.stirred = (self.rest_until - self.rest_s) if c is None else float(c)
        t0 = state.get("t", -math.inf if self.n else None)  # absent: it began long ago
        self.t0 = None if t0 is None else float(t0)
        self.warm = bool(state.get("w", self.n >= self.warmup and self.step != 0.0))
        stored = state["s"]
        if len(stored) != len(self._scales):
            raise ValueError(f"likelihood: state has {len(stored)} scales, expected {self.scales}")
        self._scales = [Scale.loaded(sc, self.buckets) for sc in stored]
        if self.phases and "p" in state:  # absent: learnt without phases, they start now
            self._phases = Phases.loaded(state["p"], self.phases, self.levels)
