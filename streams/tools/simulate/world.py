"""The simulated world: the places and sensors of the district model, or a slice of it.

(**reading** / **department event** → signal.) Every place the simulator
speaks of is one of the district model's (:mod:`streams.core.shared.district`), so
every simulated signal rolls up to its community, town, industry and district
in the rules. A slice takes the first N towns, the first N communities of each,
and the first N grid cells and sites of each community (a community lists its
sites one kind after another, so a few sites per community still cover every
kind); ``None`` takes them all.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from streams.core.shared.config import ConfigError
from streams.core.shared.district import DEFAULT_PATH, DistrictModel, Site
from streams.core.shared.district_gen import load_district

CELL = "cell"


@dataclass(frozen=True, slots=True)
class Place:
    place_id: str
    town: str
    community: str
    #: the site's industry; ``"cell"`` for a grid cell
    industry: str
    #: the site's kind (``restaurant``, ...); ``"cell"`` for a grid cell
    kind: str = CELL
    grid_cell: str = ""
    district: str = ""

    @property
    def is_cell(self) -> bool:
        return self.kind == CELL


@dataclass(frozen=True, slots=True)
class Sensor:
    sensor_id: str
    kind: str
    place: Place
    risk_points: tuple[str, ...] = ()


@dataclass(frozen=True)
class Slice:
    """How much of the district to simulate (``None``: all of it)."""

    towns: int | None = None
    communities: int | None = None  # per town
    cells: int | None = None  # per community
    sites: int | None = None  # per community

    def check(self, model: DistrictModel) -> None:
        for name in ("towns", "communities", "cells", "sites"):
            n = getattr(self, name)
            if n is not None and n < 1:
                raise ConfigError(f"simulate: --{name} must be >= 1 (or 'all')")
        if self.towns is not None and self.towns > len(model.towns):
            raise ConfigError(
                f"simulate: --towns must be within [1, {len(model.towns)}]: the district "
                f"model has {len(model.towns)} towns"
            )


@functools.cache
def default_model() -> DistrictModel:
    """The default district model (``streams/config/district.yaml``), loaded once."""
    return load_district(DEFAULT_PATH)


def load_model(path: Path | str | None) -> DistrictModel:
    return default_model() if path is None or Path(path) == DEFAULT_PATH else load_district(path)


class World:
    """The places and sensors to simulate, and what departments record about them."""

    def __init__(
        self,
        model: DistrictModel,
        part: Slice | None = None,
        kinds: Collection[str] | None = None,
    ) -> None:
        """``kinds``: the sensor kinds to simulate (default: all; a catalogue that watches
        fewer kinds has nothing to say about the others)."""
        part = part or Slice()
        part.check(model)
        self.model = model
        self.places: list[Place] = []
        d = model.district.id
        site_kinds = model.site_kind
        community_of = {g.id: c.id for _, c, g in model.cells()}
        sites_of: dict[str, list[Site]] = {}  # community → its sites, in the model's order
        for s in model.sites:
            sites_of.setdefault(community_of[s.grid_cell], []).append(s)
        for town in model.towns[: part.towns]:
            for comm in town.communities[: part.communities]:
                cells = [
                    Place(g.id, town.id, comm.id, CELL, CELL, g.id, d) for g in comm.grid_cells
                ]
                sites = [
                    Place(
                        s.id, town.id, comm.id, site_kinds[s.kind].industry, s.kind, s.grid_cell, d
                    )
                    for s in sites_of.get(comm.id, ())
                ]
                self.places += cells[: part.cells] + sites[: part.sites]
        by_id = {p.place_id: p for p in self.places}
        self.sensors: list[Sensor] = [
            Sensor(s.id, s.kind, by_id[s.place], tuple(s.risk_points))
            for s in model.sensors
            if s.place in by_id and (kinds is None or s.kind in kinds)
        ]
        #: event type → the department that files it
        self.department_of: dict[str, str] = model.department_of_record
        self._records = {k.id: tuple(k.records) for k in model.site_kinds}
        self._records[CELL] = tuple(model.cell_records)

    def records_of(self, place: Place) -> tuple[str, ...]:
        """The department records filed about a place of this kind (background rate)."""
        return self._records.get(place.kind, ())

    def department(self, event_type: str) -> str:
        return self.department_of.get(event_type, "unknown")

    def summary(self) -> dict[str, int]:
        return {
            "towns": len({p.town for p in self.places}),
            "communities": len({p.community for p in self.places}),
            "cells": sum(p.is_cell for p in self.places),
            "sites": sum(not p.is_cell for p in self.places),
            "sensors": len(self.sensors),
            "sensor_kinds": len({s.kind for s in self.sensors}),
        }
