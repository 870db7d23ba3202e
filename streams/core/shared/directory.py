"""The directory of responsible parties: who answers for a place, a town, a module.

(alert → **order** → notification.) Built from the district model: a grid
worker per grid cell, an owner or property manager per site, an office per
community and per town/street, a department per module, the district's
command centre. The router asks it for the party of a kind that has
jurisdiction over an alert's scope (:meth:`Directory.resolve`); notification
planning asks it for a party by receiver name (:meth:`Directory.party`).

Receiver names are ``<kind>.<id>``: ``grid.cell.linping.c01.03``,
``party.site.linping.c01.restaurant-02``, ``community.linping.c01``,
``town.linping``, ``dept.gas``, ``district.yuhang-district``. Phone numbers
stay out of every ``repr`` and log line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, get_args

from streams.core.shared.regions import RegionIndex

Kind = Literal[
    "grid_worker", "site_party", "community_office", "town_office", "department", "district_office"
]
KINDS: tuple[str, ...] = get_args(Kind)
#: directory kind → the routing role of its parties (a site's: by owner / property manager)
ROLE_OF: dict[str, str] = {
    "grid_worker": "grid_worker",
    "site_party": "party_concerned",
    "community_office": "community",
    "town_office": "town_street",
    "department": "department",
    "district_office": "district",
}
#: kinds every alert has a party of, whatever its scope
ALWAYS = frozenset({"department", "district_office"})
_PREFIX = {
    "grid_worker": "grid",
    "site_party": "party",
    "community_office": "community",
    "town_office": "town",
    "department": "dept",
    "district_office": "district",
}


@dataclass(frozen=True, slots=True)
class Party:
    """One reachable party: its receiver name, role, phone (never in a repr) and who it is."""

    name: str
    role: str
    phone: str = field(repr=False)
    who: str = ""


class Directory:
    """Parties by receiver name, and by jurisdiction over a scope."""

    def __init__(self, regions: RegionIndex) -> None:
        model = regions.model
        self.regions = regions
        self._parties: dict[str, Party] = {}
        self._by_module: dict[str, Party] = {}
        self.departments: frozenset[str] = frozenset(d.id for d in model.departments)

        def add(kind: str, ident: str, role: str, phone: str, who: str) -> Party:
            p = Party(f"{_PREFIX[kind]}.{ident}", role, phone, who)
            self._parties[p.name] = p
            return p

        d = model.district
        self._district = add("district_office", d.id, "district", d.office.phone, d.office.name)
        for dept in model.departments:
            p = add("department", dept.id, "department", dept.phone, dept.name)
            for m in dept.modules:
                self._by_module[m] = p
        for t in model.towns:
            add("town_office", t.id, "town_street", t.office.phone, t.office.name)
            for c in t.communities:
                add("community_office", c.id, "community", c.office.phone, c.office.name)
                for g in c.grid_cells:
                    add("grid_worker", g.id, "grid_worker", g.worker.phone, g.worker.name)
        for s in model.sites:
            role = (
                "property_management" if s.party.role == "property_manager" else "party_concerned"
            )
            add("site_party", s.id, role, s.party.phone, f"{s.party.name} ({s.name})")

    def __len__(self) -> int:
        return len(self._parties)

    def __iter__(self) -> Iterator[Party]:
        """Every party (to check that none of their numbers is where it should not be)."""
        return iter(self._parties.values())

    def party(self, name: str) -> Party | None:
        """The party with receiver name ``name``, if the directory has it."""
        return self._parties.get(name)

    def department_of(self, module: str) -> str | None:
        """The id of the department that answers for ``module``."""
        p = self._by_module.get(module)
        return p.name.removeprefix("dept.") if p else None

    def resolve(self, kind: str, scope: str, module: str | None) -> Party | None:
        """The party of ``kind`` with jurisdiction over ``scope`` (a place, a grid cell, a
        community, a town, an industry or the district) for ``module``; None if the scope
        has none of that kind (an industry has no grid worker, an unknown place no town).
        Every alert has a department (the command centre for a module nobody answers for)
        and the district's command centre.

        >>> from streams.core.shared.regions import load_regions
        >>> d = Directory(load_regions())
        >>> d.resolve("grid_worker", "site.linping.c01.restaurant-01", "gas_safety").name
        'grid.cell.linping.c01.06'
        >>> d.resolve("town_office", "linping", "gas_safety").name
        'town.linping'
        >>> d.resolve("grid_worker", "linping", "gas_safety") is None
        True
        >>> d.resolve("department", "anywhere", "gas_safety").name
        'dept.gas'
        """
        if kind == "department":  # a module no department answers for: the command centre
            return self._by_module.get(module or "", self._district)
        if kind == "district_office":
            return self._district
        if kind == "site_party":
            target = scope if self.regions.kind.get(scope) == "place" else None
        else:
            level = {"grid_worker": "grid_cell", "community_office": "community"}.get(kind, "town")
            target = self.regions.within(scope, level)
        return None if target is None else self._parties.get(f"{_PREFIX[kind]}.{target}")

    def jurisdiction(self, scope: str) -> dict[str, str]:
        """Routing labels for ``scope``: its town, community, grid cell, site kind, industry."""
        loc = self.regions.locate(scope)
        if loc is None:
            kind = self.regions.kind.get(scope)
            out = {}
            for level in ("community", "town"):
                at = self.regions.within(scope, level) if kind else None
                if at:
                    out[level] = at
            return out
        out = {"town": loc.town, "community": loc.community, "grid_cell": loc.grid_cell}
        if loc.industry:
            out["industry"] = loc.industry
        if loc.site_kind:
            out["site_kind"] = loc.site_kind
        return out
