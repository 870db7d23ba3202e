"""Threshold detector with hysteresis: fires once on crossing, re-arms on clearing.

(reading → **signal** → alert → ...) A gas sensor hovering around its alarm
level must not page someone on every reading: the detector fires when the
value reaches ``upper`` and stays quiet until the value falls to ``clear``.
Its state is a small JSON-able dict, stored per sensor by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Decision:
    """The detector fired: with what score, against what threshold."""

    score: float
    threshold: float


@dataclass(frozen=True)
class Threshold:
    """Fire when ``value >= upper``; re-arm when ``value <= clear``.

    >>> t = Threshold(upper=20.0, clear=10.0)
    >>> state = None
    >>> fired = []
    >>> for v in [5, 21, 25, 15, 22, 9, 30]:
    ...     state, d = t.step(state, v)
    ...     fired.append(d is not None)
    >>> fired
    [False, True, False, False, False, False, True]
    """

    upper: float
    clear: float | None = None

    def __post_init__(self) -> None:
        if self.clear is not None and self.clear > self.upper:
            raise ValueError(f"clear ({self.clear}) must not exceed upper ({self.upper})")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Threshold:
        unknown = set(params) - {"upper", "clear"}
        if unknown:
            raise ValueError(f"unknown threshold parameters: {sorted(unknown)}")
        if "upper" not in params:
            raise ValueError("threshold needs 'upper'")
        return cls(
            upper=float(params["upper"]),
            clear=None if params.get("clear") is None else float(params["clear"]),
        )

    def step(
        self, state: dict[str, Any] | None, value: float
    ) -> tuple[dict[str, Any], Decision | None]:
        """Advance on one value; return the new state and a decision if it fired."""
        active = bool(state and state.get("active"))
        clear = self.upper if self.clear is None else self.clear
        if active:
            still = value > clear if self.clear is not None else value >= self.upper
            return {"active": still}, None
        if value >= self.upper:
            return {"active": True}, Decision(score=value, threshold=self.upper)
        return {"active": False}, None
