"""Triggers: when a detector's score becomes a signal (hysteresis and a "for" duration).

(reading → **signal** → ...) Kept apart from detectors, as river keeps
thresholds apart from estimators: the same score can be judged by different
triggers. A trigger fires once when the score reaches ``threshold`` and has
stayed there ``for_s`` seconds of event time, then stays quiet until the score
falls to ``clear``, so a value hovering at its limit does not flap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Trigger:
    """Fire at ``score >= threshold`` held for ``for_s``; re-arm at ``score <= clear``.

    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> trig = Trigger(threshold=0.8, clear=0.5, for_s=60)
    >>> state, fired = None, []
    >>> for minute, score in enumerate([0.9, 0.95, 0.9, 0.7, 0.9, 0.4, 0.9, 0.9]):
    ...     state, f = trig.step(state, score, t0 + timedelta(minutes=minute))
    ...     fired.append(f)
    >>> fired
    [False, True, False, False, False, False, False, True]
    """

    threshold: float = 0.5
    clear: float | None = None
    for_s: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"trigger threshold must be in [0, 1], got {self.threshold}")
        if self.clear is not None and not 0.0 <= self.clear <= self.threshold:
            raise ValueError(f"trigger clear must be in [0, threshold], got {self.clear}")
        if self.for_s < 0:
            raise ValueError(f"trigger for_s must be >= 0, got {self.for_s}")

    @classmethod
    def from_params(cls, params: Mapping[str, Any], default: Trigger | None = None) -> Trigger:
        base = default or cls()
        unknown = set(params) - {"threshold", "clear", "for_s"}
        if unknown:
            raise ValueError(f"trigger: unknown parameters {sorted(unknown)}")
        return cls(
            threshold=float(params.get("threshold", base.threshold)),
            clear=params.get("clear", base.clear),
            for_s=float(params.get("for_s", base.for_s)),
        )

    def cleared(self, score: float) -> bool:
        """Whether ``score`` is back on the normal side: at or below ``clear`` (below
        ``threshold`` when no ``clear`` is set). An active trigger re-arms here, and the
        machine re-check of auto-disposal calls an observation healthy here.

        >>> Trigger(threshold=0.8, clear=0.5).cleared(0.5), Trigger(threshold=0.8).cleared(0.79)
        (True, True)
        """
        return score <= self.clear if self.clear is not None else score < self.threshold

    def step(
        self, state: Mapping[str, Any] | None, score: float, t: datetime, warm: bool = True
    ) -> tuple[dict[str, Any], bool]:
        """New state, and whether this observation fires a signal."""
        active = bool(state and state.get("a"))
        pending = state.get("p") if state else None
        now = t.timestamp()
        if active:
            return ({"a": False} if self.cleared(score) else {"a": True}), False
        if not warm or score < self.threshold:
            return {"a": False}, False
        if self.for_s <= 0:
            return {"a": True}, True
        if pending is None:
            pending = now
        if now - float(pending) >= self.for_s:
            return {"a": True}, True
        return {"a": False, "p": pending}, False
