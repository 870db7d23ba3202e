"""Surprise detector: novel short sequences of coarse value levels, then a rest period.

(reading → **signal** → alert → ...) For a sensor whose normal behaviour is a
repertoire of shapes (a daily cycle, a machine's duty cycle, traffic) rather
than a fixed band. Inspired by contextual anomaly detection (CAD-OSE in the
Numenta Anomaly Benchmark): values are quantised into a few levels over the
range seen during the first ``range_n`` readings, and the detector remembers
which contexts it has seen, in a fixed-size bit set (hashing, so memory never
grows): the level, the transition from the previous level, the 3-step shape,
and the level at this hour of the day. A reading is surprising when it forms
contexts never seen before (score = the weighted share of new ones, weights
``0.5, 0.3, 0.2, 0.2``). After a surprise of at least ``rest_level`` the
detector rests (scores 0) for ``rest`` readings, so one incident is one
signal, not a burst. Warm-up: no score before ``warmup`` readings.

State is small and fixed: the bit set (``bits`` / 8 bytes, base64 in JSON)
and a handful of numbers, about 1 KB with the defaults.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

from streams.core.signals.detectors.base import Detector, Point, check_params, clamp01
from streams.core.signals.trigger import Trigger

_MAX_BIN = 30_000
_PARAMS = {
    "levels",
    "range_n",
    "warmup",
    "rest",
    "rest_level",
    "bits",
    "weights",
    "tod_hours",
}


class Surprise(Detector[Point]):
    """Score = weighted share of never-seen contexts (level, transition, shape, hour).

    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> det = Surprise.from_params({"range_n": 20, "warmup": 60})
    >>> for i in range(200):
    ...     det.learn_one(Point(t0 + timedelta(minutes=i), float(i % 10)))
    >>> t = t0 + timedelta(minutes=200)  # the pattern goes on: 9 → 0
    >>> det.is_warm(), det.score_one(Point(t, 0.0)), det.score_one(Point(t, 50.0))
    (True, 0.0, 1.0)
    """

    kind = "surprise"
    version = 1

    def __init__(
        self,
        levels: int = 6,
        range_n: int = 100,
        warmup: int = 300,
        rest: int = 120,
        rest_level: float = 0.6,
        bits: int = 4096,
        weights: tuple[float, ...] = (0.5, 0.3, 0.2, 0.2),
        tod_hours: float = 1.0,
    ) -> None:
        if levels < 2:
            raise ValueError(f"surprise: levels must be >= 2, got {levels}")
        if not 1 <= range_n <= warmup:
            raise ValueError(f"surprise: need 1 <= range_n <= warmup, got {range_n}, {warmup}")
        if rest < 0:
            raise ValueError(f"surprise: rest must be >= 0, got {rest}")
        if bits < 64 or bits & (bits - 1):
            raise ValueError(f"surprise: bits must be a power of two >= 64, got {bits}")
        if len(weights) != 4 or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"surprise: weights must be 4 non-negative numbers, got {weights}")
        if not 0 < tod_hours <= 24:
            raise ValueError(f"surprise: tod_hours must be in (0, 24], got {tod_hours}")
        self.levels, self.range_n, self.warmup = levels, range_n, warmup
        self.rest, self.rest_level, self.bits = rest, rest_level, bits
        total = float(sum(weights))
        self.weights = tuple(w / total for w in weights)
        self.tod_s = tod_hours * 3600.0
        self._shift = 32 - (bits.bit_length() - 1)
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self.lo = math.inf
        self.hi = -math.inf
        self.step = 0.0
        self.b1: int | None = None  # previous level
        self.b2: int | None = None  # the one before
        self.mem = 0  # bit set of seen contexts
        self.quiet_until = 0  # no score before this row count
        self._cache: tuple[Point, float] | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        check_params(cls.kind, params, _PARAMS)
        try:
            w = params.get("weights", (0.5, 0.3, 0.2, 0.2))
            return cls(
                levels=int(params.get("levels", 6)),
                range_n=int(params.get("range_n", 100)),
                warmup=int(params.get("warmup", 300)),
                rest=int(params.get("rest", 120)),
                rest_level=float(params.get("rest_level", 0.6)),
                bits=int(params.get("bits", 4096)),
                weights=tuple(float(v) for v in w),
                tod_hours=float(params.get("tod_hours", 1.0)),
            )
        except TypeError as err:
            raise ValueError(f"{cls.kind}: bad parameter type: {err}") from None

    @classmethod
    def sample_params(cls) -> dict[str, Any]:
        """The parameters measured on NAB (one set for the whole corpus)."""
        return {}

    @staticmethod
    def default_trigger() -> Trigger:
        return Trigger(threshold=0.65, clear=0.3)

    # -- the model -------------------------------------------------------------

    def _level(self, v: float) -> int:
        b = math.floor((v - self.lo) / self.step)
        return -_MAX_BIN if b < -_MAX_BIN else _MAX_BIN if b > _MAX_BIN else b

    def _slot(self, order: int, a: int, b: int, c: int) -> int:
        h = ((order * 8191 + a) * 131071 + b) * 524287 + c
        return ((h * 2654435761) & 0xFFFFFFFF) >> self._shift

    def _slots(self, b: int, t: datetime | None) -> tuple[int, int, int, int]:
        b1 = self.b1 if self.b1 is not None else b
        b2 = self.b2 if self.b2 is not None else b1
        tod = int((t.hour * 3600 + t.minute * 60 + t.second) // self.tod_s) if t else 0
        return (
            self._slot(1, 0, 0, b),
            self._slot(2, 0, b1, b),
            self._slot(3, b2, b1, b),
            self._slot(4, 0, tod, b),
        )

    def _raw(self, x: Point) -> float:
        mem, w = self.mem, self.weights
        raw = 0.0
        for i, s in enumerate(self._slots(self._level(x.value), x.t)):
            if not (mem >> s) & 1:
                raw += w[i]
        return raw

    def score_one(self, x: Point) -> float:
        if self.n < self.warmup:
            return 0.0
        raw = self._raw(x)
        self._cache = (x, raw)
        return 0.0 if self.n < self.quiet_until else clamp01(raw)

    def recheck_score(self, x: Point) -> float:
        """The share of never-seen contexts, without the rest period."""
        if self.n < self.warmup or not math.isfinite(x.value):
            return self.score_one(x)  # no alarm comes before warm-up: nothing to re-check
        return clamp01(self._raw(x))

    def recheck_learn(self, x: Point, healthy: bool) -> None:
        """Move the previous two levels (the shape since the alarm is judged); remember the
        contexts of healthy readings only, so a new level that persists stays novel."""
        if self.n < self.warmup or not math.isfinite(x.value):
            return
        b = self._level(x.value)
        if healthy:
            s1, s2, s3, s4 = self._slots(b, x.t)
            self.mem |= (1 << s1) | (1 << s2) | (1 << s3) | (1 << s4)
        self.b2, self.b1 = self.b1, b
        self._cache = None

    def learn_one(self, x: Point) -> None:
        v = x.value
        if not math.isfinite(v):
            return
        if self.n < self.range_n:
            self.lo, self.hi = min(self.lo, v), max(self.hi, v)
            self.n += 1
            if self.n == self.range_n:
                span = self.hi - self.lo
                self.step = span / self.levels if span > 0 else max(abs(self.lo) * 0.01, 1e-9)
            return
        if self.n >= self.warmup:
            cached = self._cache
            raw = cached[1] if cached is not None and cached[0] is x else self._raw(x)
            if raw >= self.rest_level and self.n >= self.quiet_until:
                self.quiet_until = self.n + 1 + self.rest
        self._cache = None
        b = self._level(v)
        s1, s2, s3, s4 = self._slots(b, x.t)
        self.mem |= (1 << s1) | (1 << s2) | (1 << s3) | (1 << s4)
        self.b2, self.b1 = self.b1, b
        self.n += 1

    def is_warm(self) -> bool:
        return self.n >= self.warmup

    def baseline(self) -> float | None:
        if self.step == 0.0 or self.b1 is None:
            return None
        return self.lo + (self.b1 + 0.5) * self.step

    def indicators(self, x: Point) -> dict[str, float]:
        out = {"value": x.value}
        if self.step:
            out["level"] = float(self._level(x.value))
            out["step"] = self.step
        return out

    # -- state -----------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        mem = self.mem.to_bytes(self.bits // 8, "little")
        return {
            "n": self.n,
            "lo": self.lo if math.isfinite(self.lo) else None,
            "hi": self.hi if math.isfinite(self.hi) else None,
            "st": self.step,
            "b": [self.b1, self.b2],
            "q": self.quiet_until,
            "m": base64.b64encode(mem).decode("ascii"),
        }

    def load(self, state: Mapping[str, Any]) -> None:
        self._reset()
        self.n = int(state["n"])
        lo, hi = state.get("lo"), state.get("hi")
        self.lo = math.inf if lo is None else float(lo)
        self.hi = -math.inf if hi is None else float(hi)
        self.step = float(state["st"])
        b1, b2 = state["b"]
        self.b1 = None if b1 is None else int(b1)
        self.b2 = None if b2 is None else int(b2)
        self.quiet_until = int(state["q"])
        mem = base64.b64decode(state["m"])
        if len(mem) != self.bits // 8:
            raise ValueError(
                f"surprise: state has {len(mem) * 8} context bits, expected {self.bits}"
            )
        self.mem = int.from_bytes(mem, "little")
