"""The detector contract: river-style ``score_one`` / ``learn_one`` with JSON state.

(reading → **signal** → alert → ...) A detector turns one observation of one
key (a sensor, a place) into an anomaly score in [0, 1]; deciding whether a
score is a signal is the job of a separate :class:`streams.core.trigger.Trigger`.
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

from streams.core.trigger import Trigger


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
    ``"record"``), and implement the five methods below.
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
