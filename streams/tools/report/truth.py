"""The simulator's ground truth as the report reads it: injected incidents and sensor faults.

(alert → **report**.) ``yujing simulate --truth`` and ``yujing district-day``
write JSON lines: one object per injected incident or sensor fault, with its
id, risk point and module (incidents) or fault kind, place, grid cell,
community, town, industry, sensor, start and end; a group incident (its
``risk_kind`` not ``single``) lists its members. A line with an integer
``sensors`` gives the sensor count (with ``start``/``end``, the span). How
alerts are matched to them: :mod:`streams.tools.report.matching`. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One injected incident or sensor fault."""

    id: str
    type: str  # "incident" or "fault"
    start: datetime
    end: datetime
    name: str = ""  # risk point or fault kind
    risk_point: str | None = None
    module: str | None = None
    kind: str = "single"  # a group incident: regional, industry, ... (its risk_kind)
    group: str | None = None  # a member of a group incident: the group's id
    members: tuple[str, ...] = ()  # a group incident: its members' ids
    place_id: str | None = None
    grid_cell: str | None = None
    community: str | None = None
    town: str | None = None
    industry: str | None = None
    sensor_id: str | None = None

    @property
    def area(self) -> set[str]:
        """The place and every region that contains it."""
        ids = (self.place_id, self.grid_cell, self.community, self.town)
        return {x for x in ids if x}


@dataclass(frozen=True)
class Truth:
    entries: tuple[Entry, ...]
    sensors: int | None = None
    days: float | None = None  # the simulated span, if the file says

    @property
    def incidents(self) -> list[Entry]:
        """Single incidents: one place each (group members included)."""
        return [e for e in self.entries if e.type == "incident" and e.kind == "single"]

    @property
    def groups(self) -> list[Entry]:
        """Group incidents: one cause over a town, an industry, the district or (compound)
        several modules at one place."""
        return [e for e in self.entries if e.type == "incident" and e.kind != "single"]

    @property
    def faults(self) -> list[Entry]:
        return [e for e in self.entries if e.type == "fault"]


def _time(doc: Mapping[str, Any], key: str) -> datetime:
    t = datetime.fromisoformat(str(doc[key]))
    if t.tzinfo is None:
        raise ValueError(f"{key} {doc[key]!r} has no UTC offset")
    return t


def parse_truth(lines: Iterable[str]) -> Truth:
    """Ground truth from JSON lines; a bad line raises ``ValueError`` naming it."""
    entries: list[Entry] = []
    sensors: int | None = None
    days: float | None = None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            kind = doc.get("type")
            if kind not in ("incident", "fault"):
                if isinstance(doc.get("sensors"), int) and not isinstance(doc["sensors"], bool):
                    sensors = doc["sensors"]
                    if "start" in doc and "end" in doc:
                        days = (_time(doc, "end") - _time(doc, "start")).total_seconds() / 86400
                continue
            text = {k: str(v) for k, v in doc.items() if isinstance(v, str) and v}
            risk_kind = text.get("risk_kind", "single")
            if risk_kind not in ("single", "compound"):  # its place_id names its scope
                text.pop("place_id", None)
            entries.append(
                Entry(
                    id=text["id"],
                    type=kind,
                    start=_time(doc, "start"),
                    end=_time(doc, "end"),
                    name=text.get("risk_point") or text.get("fault", ""),
                    risk_point=text.get("risk_point"),
                    module=text.get("module"),
                    kind=risk_kind,
                    group=text.get("group"),
                    members=tuple(str(m) for m in doc.get("members") or ()),
                    place_id=text.get("place_id"),
                    grid_cell=text.get("grid_cell"),
                    community=text.get("community"),
                    town=text.get("town"),
                    industry=text.get("industry"),
                    sensor_id=text.get("sensor_id"),
                )
            )
        except (ValueError, KeyError) as err:
            why = f"missing {err}" if isinstance(err, KeyError) else str(err)
            raise ValueError(f"line {n}: {why}") from None
    return Truth(tuple(entries), sensors, days)


__all__ = ["Entry", "Truth", "parse_truth"]
