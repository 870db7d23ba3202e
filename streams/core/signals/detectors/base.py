"""The detector contract: river-style ``score_one`` / ``learn_one`` with JSON state.

(reading → **signal** → alert → ...) A detector turns one observation of one
key (a sensor, a place) into an anomaly score in [0, 1]; deciding whether a
score is a signal is the job of a separate :class:`streams.core.signals.trigger.Trigger`.
State is plain JSON (never pickle), so it can live in a changelog-backed
table and move with its partition; ``restore(params, state())`` behaves
exactly like the original.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

from streams.core.signals.trigger import Trigger


@dataclass(frozen=True)
class Point:
    """One sensor observation: ``value`` is the first of ``values``."""

    t: datetime
    value: float
    values: Mapping[str, float] = field(default_factory=dict)
    event_id: str = ""


@dataclass(frozen=True)
class Record:
    """One department record about a place."""

    t: datetime
    department: str
    event_type: str
    attributes: Mapping[str, Any]
    event_id: str = ""
    subject_id: str | None = None


X = TypeVar("X", Point, Record)


class Detector(ABC, Generic[X]):
    """Base of every detector kind.

    Subclasses set ``kind`` (the catalogue name), ``version`` (bump when the
    logic changes what a state means) and ``input`` (``"point"`` or
    ``"record"``), and implement the five abstract methods below; the machine
    re-check (``recheck_score`` / ``recheck_learn``) has defaults to override
    where the detector's baseline or rest period would mislead it.
    """

    kind: ClassVar[str]
    version: ClassVar[int] = 1
    input: ClassVar[str] = "point"

    @classmethod
    @abstractmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        """Build from catalogue parameters; raise ``ValueError`` naming a bad one."""

    @abstractmethod
    def score_one(self, x: X) -> float:
        """Anomaly score of ``x`` in [0, 1] given what was learnt so far (no learning)."""

    @abstractmethod
    def learn_one(self, x: X) -> None:
        """Update the state with ``x``."""

    @abstractmethod
    def is_warm(self) -> bool:
        """True once a baseline exists; no signal may be raised before."""

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """JSON-serializable state."""

    @abstractmethod
    def load(self, state: Mapping[str, Any]) -> None:
        """Replace the state with one produced by :meth:`state`."""

    def recheck_score(self, x: X) -> float:
        """The machine re-check of auto-disposal: score ``x`` against the normal known at the alarm.

        Called on a copy of the detector restored from the state that raised an
        alarm (see :mod:`streams.core.signals.recheck`), for every observation after
        it, each followed by :meth:`recheck_learn`. It scores on the scale of
        :meth:`score_one`, so the risk point's trigger judges it: at or below
        the clear level, ``x`` is healthy. It never rests or warms up again.
        The default is :meth:`score_one`.
        """
        return self.score_one(x)

    def recheck_learn(self, x: X, healthy: bool) -> None:
        """Update the re-check's copy after ``x`` was judged (``healthy`` or not).

        The test's own running statistics (a count in a window, a cumulative
        sum, the latest record of each side) always move; the baseline (what
        normal looks like) learns only healthy observations, so an incident
        that goes on is never learnt as the new normal and never judged
        healthy, while a recovered stream may drift as normal streams do. The
        alarm's own observation comes here first, judged unhealthy. The
        default learns healthy observations with :meth:`learn_one`.
        """
        if healthy:
            self.learn_one(x)

    def recheck_one(self, x: X, trigger: Trigger) -> bool:
        """Judge ``x`` in the machine re-check: healthy when ``trigger`` counts its re-check
        score as cleared (:meth:`Trigger.cleared`); then learn it accordingly."""
        healthy = trigger.cleared(self.recheck_score(x))
        self.recheck_learn(x, healthy)
        return healthy

    @staticmethod
    def default_trigger() -> Trigger:
        """The trigger a risk point gets unless its catalogue entry sets one."""
        return Trigger(threshold=0.99, clear=0.9)

    def baseline(self) -> float | None:
        """What normal looks like right now, for the signal's portrait (if meaningful)."""
        return None

    def indicators(self, x: X) -> dict[str, float]:
        """Values that explain a score for ``x`` (shown in the signal)."""
        if isinstance(x, Point):
            return {"value": x.value, **dict(x.values)}
        return {}

    def evidence(self, x: X) -> list[str]:
        """Ids of the source events behind a signal raised on ``x``."""
        return [x.event_id] if x.event_id else []

    @classmethod
    def restore(cls, params: Mapping[str, Any], state: Mapping[str, Any], seed: int = 0) -> Self:
        det = cls.from_params(params, seed)
        det.load(state)
        return det


def check_params(
    kind: str,
    params: Mapping[str, Any],
    allowed: set[str],
    required: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Reject unknown or missing parameters with the detector kind in the message."""
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(
            f"{kind}: unknown parameters {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    missing = set(required) - set(params)
    if missing:
        raise ValueError(f"{kind}: missing parameters {sorted(missing)}")


def typed_params(kind: str, params: Mapping[str, Any], types: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` checked against ``types`` (name → converter) and converted, for a kind
    whose constructor takes them as keyword arguments; a bad one is a ``ValueError``.

    >>> typed_params("demo", {"n": "3"}, {"n": int, "x": float})
    {'n': 3}
    """
    check_params(kind, params, set(types))
    try:
        return {k: types[k](v) for k, v in params.items()}
    except TypeError as err:
        raise ValueError(f"{kind}: bad parameter type: {err}") from None


def clamp01(x: float) -> float:
    """Clamp to [0, 1]; NaN becomes 0 (a detector must never emit NaN)."""
    if math.isnan(x):
        return 0.0
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def z_to_score(z: float) -> float:
    """Two-sided Gaussian tail turned into a score: ``erf(|z| / sqrt 2)``.

    >>> round(z_to_score(0.0), 3), round(z_to_score(3.0), 4)
    (0.0, 0.9973)
    """
    return clamp01(math.erf(abs(z) / math.sqrt(2.0)))
