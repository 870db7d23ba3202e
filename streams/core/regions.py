"""The location hierarchy as validated data: district → town/street → community → grid cell.

Sites (a restaurant, a factory, a building site) sit in a grid cell and carry
an industry. Used by ``locate_signals`` (signal → **scoped signal**): a
signal's place is looked up here to find the town, industry and district
whose rules must see it, and by the risk map to roll levels up. A bad file
fails at load with the file, the entry and the field (``ConfigError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, model_validator

from streams.core.config import ConfigModel, load_yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "regions.yaml"

_ID = r"^[A-Za-z0-9._:@/\-]+$"
_NAME = r"^[a-z0-9_.\-]+$"


class GridCell(ConfigModel):
    id: str = Field(pattern=_ID, max_length=100)
    name: str = ""


class Community(ConfigModel):
    id: str = Field(pattern=_ID, max_length=100)
    name: str
    grid_cells: list[GridCell] = Field(min_length=1)


class Town(ConfigModel):
    id: str = Field(pattern=_ID, max_length=100)
    name: str
    communities: list[Community] = Field(min_length=1)


class District(ConfigModel):
    id: str = Field(pattern=_ID, max_length=100)
    name: str
    towns: list[Town] = Field(min_length=1)


class Site(ConfigModel):
    id: str = Field(pattern=_ID, max_length=100)
    name: str
    grid_cell: str
    industry: str = Field(pattern=_NAME, max_length=64)


@dataclass(frozen=True)
class Location:
    """Where a place sits; ``site``/``industry`` only for sites."""

    place_id: str
    grid_cell: str
    community: str
    town: str
    district: str
    site: str | None = None
    industry: str | None = None


class Regions(ConfigModel):
    version: int = Field(ge=1, le=1)
    districts: list[District] = Field(min_length=1)
    sites: list[Site] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Regions:
        seen: dict[str, str] = {}

        def claim(kind: str, ident: str) -> None:
            if ident in seen:
                raise ValueError(f"{kind} id {ident!r} is already used by a {seen[ident]}")
            seen[ident] = kind

        for d in self.districts:
            claim("district", d.id)
            for t in d.towns:
                claim("town", t.id)
                for c in t.communities:
                    claim("community", c.id)
                    for g in c.grid_cells:
                        claim("grid cell", g.id)
        for s in self.sites:
            claim("site", s.id)
            if seen.get(s.grid_cell) != "grid cell":
                raise ValueError(f"site {s.id!r}: unknown grid_cell {s.grid_cell!r}")
        return self

    def index(self) -> RegionIndex:
        return RegionIndex(self)


class RegionIndex:
    """Fast look-ups over a validated :class:`Regions`."""

    def __init__(self, regions: Regions) -> None:
        self.regions = regions
        self._places: dict[str, Location] = {}
        #: scope kind → ids, and child → parent for the roll-up
        self.parent: dict[str, str] = {}
        self.kind: dict[str, str] = {}
        self.industries: set[str] = set()
        for d in regions.districts:
            self.kind[d.id] = "district"
            for t in d.towns:
                self.kind[t.id], self.parent[t.id] = "town", d.id
                for c in t.communities:
                    self.kind[c.id], self.parent[c.id] = "community", t.id
                    for g in c.grid_cells:
                        self.kind[g.id], self.parent[g.id] = "grid_cell", c.id
                        self._places[g.id] = Location(g.id, g.id, c.id, t.id, d.id)
        for s in regions.sites:
            cell = self._places[s.grid_cell]
            self.kind[s.id], self.parent[s.id] = "place", s.grid_cell
            self.industries.add(s.industry)
            self._places[s.id] = Location(
                s.id, cell.grid_cell, cell.community, cell.town, cell.district, s.id, s.industry
            )

    def locate(self, place_id: str) -> Location | None:
        """The place's location, or None for a place the file does not know."""
        return self._places.get(place_id)

    def ancestors(self, scope_id: str) -> list[str]:
        """``scope_id`` and everything above it, nearest first.

        >>> idx = load_regions().index()
        >>> idx.ancestors("cell.wuchang.wuchang-1.01")
        ['cell.wuchang.wuchang-1.01', 'wuchang.wuchang-1', 'wuchang', 'yuhang']
        """
        out = [scope_id]
        while out[-1] in self.parent:
            out.append(self.parent[out[-1]])
        return out

    def scopes(self) -> dict[str, str]:
        """Every map scope (grid cell to district, sites, ``industry:<id>``) → its kind."""
        out = dict(self.kind)
        out.update({f"industry:{i}": "industry" for i in sorted(self.industries)})
        return out


def load_regions(path: Path | str = DEFAULT_PATH) -> Regions:
    """Load and validate a regions file (raises ``ConfigError`` naming file and field)."""
    return load_yaml(path, Regions)
