"""Baselines: detector state learnt from a district's history, for workers that start warm.

(reading / department event → **signal**.) A learned detector needs history
before it may judge: a seasonal profile needs days of readings per hour of the
day, a level shift dozens of readings, a place's record rate weeks of its
windows. A pipeline commissioned on a running district imports that history
instead of waiting for it: :func:`learn_sensor` and :func:`learn_place` run a
key's past observations through the very detection core the worker uses
(:meth:`streams.core.signals.detect.Detection.learn`), and a worker given the file
(``YUJING_BASELINES``) starts a key it holds no state for from its baseline
instead of cold. A key the worker already holds state for keeps it: the
baseline is a starting point, never an overwrite.

File: one JSON object ``{"version": 1, "learned_until": ISO-8601, "sensors":
{sensor id: state}, "places": {place id: state}}``, each state the compact
JSON string the detect agents keep in their tables. Validated at load; a bad
file fails naming the file and the field. Pure apart from :func:`load` and
:func:`write`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from streams.core.shared.config import ConfigError
from streams.core.signals.detect import Detection, KeyState
from streams.core.signals.detectors import Point, Record

VERSION = 1


@dataclass(frozen=True)
class Baselines:
    """Starting states by sensor id and by place id."""

    sensors: Mapping[str, KeyState] = field(default_factory=dict)
    places: Mapping[str, KeyState] = field(default_factory=dict)
    learned_until: datetime | None = None

    def sensor(self, sensor_id: str) -> KeyState | None:
        return self.sensors.get(sensor_id)

    def place(self, place_id: str) -> KeyState | None:
        return self.places.get(place_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "learned_until": self.learned_until.isoformat() if self.learned_until else None,
            "sensors": dict(self.sensors),
            "places": dict(self.places),
        }


NONE = Baselines()


def learn_sensor(
    detection: Detection, sensor_kind: str, points: Iterable[Point]
) -> KeyState | None:
    """A sensor's state after its past readings (``None``: nothing watches its kind)."""
    if not detection.watches(sensor_kind):
        return None
    return detection.learn(points, sensor_kind=sensor_kind)


def learn_place(detection: Detection, records: Iterable[Record]) -> KeyState | None:
    """A place's state after its past department records (``None``: none was watched)."""
    return detection.learn(records)


def parse(doc: object, source: str = "baselines") -> Baselines:
    """Validate a baselines document; errors name ``source`` and the field.

    >>> parse({"version": 1, "sensors": {"s1": "{}"}, "places": {}}).sensor("s1")
    '{}'
    >>> parse({"version": 2})
    Traceback (most recent call last):
    ...
    streams.core.shared.config.ConfigError: baselines: version: expected 1, got 2
    """
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: expected a JSON object")
    if doc.get("version") != VERSION:
        raise ConfigError(f"{source}: version: expected {VERSION}, got {doc.get('version')!r}")
    unknown = set(doc) - {"version", "learned_until", "sensors", "places"}
    if unknown:
        raise ConfigError(f"{source}: unknown fields {sorted(unknown)}")
    out: dict[str, dict[str, KeyState]] = {}
    for name in ("sensors", "places"):
        states = doc.get(name, {})
        if not isinstance(states, dict):
            raise ConfigError(f"{source}: {name}: expected an object of key -> state")
        for key, state in states.items():
            if not isinstance(state, str) or not state.startswith("{"):
                raise ConfigError(f"{source}: {name}.{key}: expected a state (a JSON object)")
        out[name] = states
    until = doc.get("learned_until")
    try:
        learned = datetime.fromisoformat(until) if isinstance(until, str) else None
    except ValueError:
        raise ConfigError(f"{source}: learned_until: not ISO-8601: {until!r}") from None
    return Baselines(out["sensors"], out["places"], learned)


def load(path: Path | None) -> Baselines:
    """The baselines file at ``path`` (``None``: no baselines)."""
    if path is None:
        return NONE
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read baselines: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not JSON: {err}") from None
    return parse(doc, str(path))


def write(path: Path, baselines: Baselines) -> None:
    Path(path).write_text(json.dumps(baselines.to_json(), separators=(",", ":")), "utf-8")


__all__ = ["NONE", "Baselines", "learn_place", "learn_sensor", "load", "parse", "write"]
