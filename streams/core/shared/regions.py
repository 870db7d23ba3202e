"""The location hierarchy: district → town/street → community → grid cell, sites in cells.

Sites (a restaurant, a factory, a building site) sit in a grid cell and carry
an industry. Built from the district model (:mod:`streams.core.shared.district`), the
one source of truth for places. Used by ``locate_signals`` (signal → **scoped
signal**): a signal's place is looked up here to find the town, industry and
district whose rules must see it; by the risk map to roll levels up; and by
the routing directory to find a place's grid cell and town.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streams.core.shared.district import DEFAULT_PATH, DistrictModel
from streams.core.shared.district_gen import load_district

__all__ = ["DEFAULT_PATH", "Location", "RegionIndex", "load_regions"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a place sits; ``site``/``industry``/``site_kind`` only for sites."""

    place_id: str
    grid_cell: str
    community: str
    town: str
    district: str
    site: str | None = None
    industry: str | None = None
    site_kind: str | None = None


class RegionIndex:
    """Fast look-ups over a validated :class:`~streams.core.shared.district.DistrictModel`."""

    def __init__(self, model: DistrictModel) -> None:
        self.model = model
        self._places: dict[str, Location] = {}
        #: scope kind → ids, and child → parent for the roll-up
        self.parent: dict[str, str] = {}
        self.kind: dict[str, str] = {}
        self.industries: set[str] = set()
        d = model.district.id
        self.kind[d] = "district"
        for t in model.towns:
            self.kind[t.id], self.parent[t.id] = "town", d
            for c in t.communities:
                self.kind[c.id], self.parent[c.id] = "community", t.id
                for g in c.grid_cells:
                    self.kind[g.id], self.parent[g.id] = "grid_cell", c.id
                    self._places[g.id] = Location(g.id, g.id, c.id, t.id, d)
        kinds = model.site_kind
        for s in model.sites:
            cell = self._places[s.grid_cell]
            industry = kinds[s.kind].industry
            self.kind[s.id], self.parent[s.id] = "place", s.grid_cell
            self.industries.add(industry)
            self._places[s.id] = Location(
                s.id, cell.grid_cell, cell.community, cell.town, d, s.id, industry, s.kind
            )

    @property
    def district(self) -> str:
        return self.model.district.id

    def locate(self, place_id: str) -> Location | None:
        """The place's location, or None for a place the model does not know."""
        return self._places.get(place_id)

    def ancestors(self, scope_id: str) -> list[str]:
        """``scope_id`` and everything above it, nearest first.

        >>> idx = load_regions()
        >>> idx.ancestors("cell.linping.c01.01")
        ['cell.linping.c01.01', 'linping.c01', 'linping', 'yuhang-district']
        """
        out = [scope_id]
        while out[-1] in self.parent:
            out.append(self.parent[out[-1]])
        return out

    def within(self, scope_id: str, kind: str) -> str | None:
        """The scope of ``kind`` (``grid_cell``, ``community``, ``town``, ...) that holds
        ``scope_id`` (or is it), if any."""
        for s in self.ancestors(scope_id):
            if self.kind.get(s) == kind:
                return s
        return None

    def scopes(self) -> dict[str, str]:
        """Every map scope (grid cell to district, sites, ``industry:<id>``) → its kind."""
        out = dict(self.kind)
        out.update({f"industry:{i}": "industry" for i in sorted(self.industries)})
        return out


def load_regions(path: Path | str = DEFAULT_PATH) -> RegionIndex:
    """The hierarchy of a district model file (raises ``ConfigError`` naming file and field)."""
    return RegionIndex(load_district(path))
