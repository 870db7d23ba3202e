"""Data collision: two departments' records about one place that contradict or compound.

(department events → **signal** → alert → ...) The case's "data collision":
a rental registration declaring 2 tenants against utility evidence of 10
occupants; a failed fire inspection and a gas alarm at the same site within a
month. The detector keeps the latest record of each side per place and scores
their combination while both are inside the window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from streams.core.signals.detectors.base import Detector, Record, check_params, clamp01
from streams.core.signals.trigger import Trigger

OPS = ("ratio_gt", "both_present")


@dataclass(frozen=True)
class Side:
    event_type: str
    field: str | None = None

    @classmethod
    def parse(cls, kind: str, name: str, raw: Any) -> Side:
        if not isinstance(raw, Mapping) or "event_type" not in raw:
            raise ValueError(f"{kind}: {name} must be a mapping with 'event_type' (and 'field')")
        unknown = set(raw) - {"event_type", "field"}
        if unknown:
            raise ValueError(f"{kind}: {name}: unknown keys {sorted(unknown)}")
        return cls(str(raw["event_type"]), None if raw.get("field") is None else str(raw["field"]))


class Collision(Detector[Record]):
    """Compare the latest ``left`` and ``right`` records at a place within ``window_s``.

    ``ratio_gt``: score 0.5 when right.field / left.field equals ``value``,
    rising to 1 at twice that. ``both_present``: score 1 when both sides were
    seen within the window.

    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> det = Collision.from_params({
    ...     "left": {"event_type": "rental_registration", "field": "declared_tenants"},
    ...     "right": {"event_type": "utility_occupancy", "field": "estimated_occupants"},
    ...     "op": "ratio_gt", "value": 2.5, "window_s": 30 * 86400})
    >>> reg = Record(t0, "housing", "rental_registration", {"declared_tenants": 2}, "reg-1")
    >>> det.learn_one(reg)
    >>> util = Record(t0 + timedelta(days=3), "utility", "utility_occupancy",
    ...               {"estimated_occupants": 10}, "util-9")
    >>> det.score_one(util), det.evidence(util)
    (1.0, ['reg-1', 'util-9'])
    """

    kind = "collision"
    version = 1
    input = "record"

    def __init__(self, left: Side, right: Side, op: str, value: float, window_s: float) -> None:
        if op not in OPS:
            raise ValueError(f"{self.kind}: op must be one of {OPS}, not {op!r}")
        if op == "ratio_gt" and (left.field is None or right.field is None or value <= 0):
            raise ValueError(f"{self.kind}: ratio_gt needs a field on both sides and value > 0")
        if window_s <= 0:
            raise ValueError(f"{self.kind}: window_s must be > 0")
        self.left, self.right, self.op, self.value, self.window_s = left, right, op, value, window_s
        self.seen: dict[str, list[Any]] = {}  # "l"/"r" -> [epoch, value, event_id]

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> Self:
        check_params(
            cls.kind,
            params,
            {"left", "right", "op", "value", "window_s"},
            {"left", "right", "op", "window_s"},
        )
        return cls(
            Side.parse(cls.kind, "left", params["left"]),
            Side.parse(cls.kind, "right", params["right"]),
            str(params["op"]),
            float(params.get("value", 0.0)),
            float(params["window_s"]),
        )

    @classmethod
    def sample_params(cls) -> dict[str, Any]:
        return {
            "left": {"event_type": "a", "field": "x"},
            "right": {"event_type": "b", "field": "y"},
            "op": "ratio_gt",
            "value": 2.0,
            "window_s": 86400,
        }

    @staticmethod
    def default_trigger() -> Trigger:
        return Trigger(threshold=0.5, clear=0.0)

    def event_types(self) -> set[str]:
        return {self.left.event_type, self.right.event_type}

    def _side(self, x: Record) -> tuple[str, Side] | None:
        if x.event_type == self.left.event_type:
            return "l", self.left
        if x.event_type == self.right.event_type:
            return "r", self.right
        return None

    def _entry(self, x: Record, side: Side) -> list[Any] | None:
        if side.field is None:
            return [x.t.timestamp(), None, x.event_id]
        v = x.attributes.get(side.field)
        if isinstance(v, bool) or not isinstance(v, int | float):
            return None
        return [x.t.timestamp(), float(v), x.event_id]

    def _pair(self, x: Record) -> tuple[list[Any], list[Any]] | None:
        found = self._side(x)
        if found is None:
            return None
        name, side = found
        mine = self._entry(x, side)
        other = self.seen.get("r" if name == "l" else "l")
        if mine is None or other is None or abs(mine[0] - other[0]) > self.window_s:
            return None
        return (mine, other) if name == "l" else (other, mine)

    def score_one(self, x: Record) -> float:
        pair = self._pair(x)
        if pair is None:
            return 0.0
        left, right = pair
        if self.op == "both_present":
            return 1.0
        if not left[1] or left[1] <= 0:
            return 1.0 if right[1] and right[1] > 0 else 0.0
        return clamp01(0.5 * (right[1] / left[1]) / self.value)

    def recheck_learn(self, x: Record, healthy: bool) -> None:
        """Keep ``x`` as its side's latest record, healthy or not.

        A later record of either side replaces the one behind the alarm: one
        that resolves the contradiction (a registration declaring the real
        number of tenants) scores low, one that renews it scores high.
        """
        self.learn_one(x)

    def learn_one(self, x: Record) -> None:
        found = self._side(x)
        if found is None:
            return
        name, side = found
        entry = self._entry(x, side)
        if entry is not None and (name not in self.seen or entry[0] >= self.seen[name][0]):
            self.seen[name] = entry

    def is_warm(self) -> bool:
        return True

    def evidence(self, x: Record) -> list[str]:
        pair = self._pair(x)
        ids = [p[2] for p in pair] if pair else [x.event_id]
        return [i for i in ids if i]

    def indicators(self, x: Record) -> dict[str, float]:
        pair = self._pair(x)
        if pair is None:
            return {}
        out = {}
        if pair[0][1] is not None:
            out[f"{self.left.event_type}.{self.left.field}"] = pair[0][1]
        if pair[1][1] is not None:
            out[f"{self.right.event_type}.{self.right.field}"] = pair[1][1]
        return out

    def state(self) -> dict[str, Any]:
        return dict(self.seen)

    def load(self, state: Mapping[str, Any]) -> None:
        self.seen = {k: list(v) for k, v in state.items()}
