"""The district model: places, the parties who answer for them, and the sensors, as data.

Not in the event flow itself: it says where every place of the flow sits and
who answers for it. The simulator draws its places and sensors from it, the
rules roll signals up along its hierarchy (district → town/street → community
→ grid cell; sites with their industry, :mod:`streams.core.shared.regions`), and the
routing directory resolves receivers from it (:mod:`streams.core.shared.directory`).

A model file is either the full model (``towns``, ``sites``, ``sensors``, ...
written out, e.g. by ``yujing district generate``) or a generator spec (a
``generate:`` section, :mod:`streams.core.shared.district_gen`), which is expanded
deterministically for its seed. Either is validated at load: a bad entry fails
with the file, the entry and the field (:class:`~streams.core.shared.config.ConfigError`).
YAML or JSON (by the file's suffix; JSON loads fastest).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from streams.core.shared.config import ConfigError, ConfigModel

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "district.yaml"

#: Place and party ids: safe as a Kafka key, a receiver name (``<role>.<id>`` within 64
#: characters) and a metric label.
ID = r"^[a-z0-9][a-z0-9_.\-]*$"
ID_LEN = 56
NAME = r"^[a-z0-9_.\-]+$"
PHONE = r"^\+?[0-9]{5,20}$"

PartyRole = Literal["owner", "property_manager"]
_TUPLES: dict[tuple[str, ...], tuple[str, ...]] = {}


def _shared(v: str) -> str:
    return sys.intern(v)  # 20,000 sensors name a few thousand places and thirty kinds


def _shared_tuple(v: tuple[str, ...]) -> tuple[str, ...]:
    return _TUPLES.setdefault(v, v)


class Contact(ConfigModel):
    """A person or an office that can be reached: a name and a phone (never printed)."""

    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(pattern=PHONE, repr=False)


class SiteParty(Contact):
    """Who answers for a site: its owner, or the property manager."""

    role: PartyRole


class GridCell(ConfigModel):
    id: str = Field(pattern=ID, max_length=ID_LEN)
    name: str = ""
    #: The grid worker responsible for the cell.
    worker: Contact


class Community(ConfigModel):
    id: str = Field(pattern=ID, max_length=ID_LEN)
    name: str
    office: Contact
    grid_cells: list[GridCell] = Field(min_length=1)


class Town(ConfigModel):
    id: str = Field(pattern=ID, max_length=ID_LEN)
    name: str
    #: The town's (or street's) duty office.
    office: Contact
    communities: list[Community] = Field(min_length=1)


class DistrictInfo(ConfigModel):
    id: str = Field(pattern=ID, max_length=ID_LEN)
    name: str
    #: The district's command centre.
    office: Contact


class Department(ConfigModel):
    """A department: answers for its ``modules``, files records of its ``records`` types."""

    id: str = Field(pattern=NAME, max_length=48)
    name: str
    phone: str = Field(pattern=PHONE, repr=False)
    modules: list[str] = Field(default_factory=list)
    records: list[str] = Field(default_factory=list)


class SiteKind(ConfigModel):
    """What a kind of site is: its industry and the department records filed about it."""

    id: str = Field(pattern=NAME, max_length=48)
    name: str
    industry: str = Field(pattern=NAME, max_length=64)
    records: list[str] = Field(default_factory=list)


class Site(ConfigModel):
    id: str = Field(pattern=ID, max_length=ID_LEN)
    name: str
    kind: str
    grid_cell: str
    party: SiteParty


class Sensor(NamedTuple):
    """One sensor: a tuple, not a model, so 20,000 of them cost ~3 MB, not ~15 MB."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:@/\-]+$", max_length=128)]
    kind: Annotated[str, StringConstraints(pattern=NAME, max_length=64), AfterValidator(_shared)]
    place: Annotated[str, AfterValidator(_shared)]
    #: The catalogue's risk points this sensor feeds (checked against the catalogue).
    risk_points: Annotated[tuple[str, ...], AfterValidator(_shared_tuple)] = ()


class DistrictModel(ConfigModel):
    version: Literal[1]
    #: The seed the model was generated with, if it was.
    seed: int | None = None
    district: DistrictInfo
    departments: list[Department] = Field(min_length=1)
    #: Department records filed about grid cells (disputes, accidents, ...).
    cell_records: list[str] = Field(default_factory=list)
    site_kinds: list[SiteKind] = Field(default_factory=list)
    towns: list[Town] = Field(min_length=1)
    sites: list[Site] = Field(default_factory=list)
    sensors: list[Sensor] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> DistrictModel:
        seen: dict[str, str] = {self.district.id: "district"}

        def claim(kind: str, ident: str, where: str) -> None:
            if ident in seen:
                raise ValueError(f"{where}: {kind} id {ident!r} is already a {seen[ident]}'s")
            seen[ident] = kind

        for t, town in enumerate(self.towns):
            claim("town", town.id, f"towns[{t}].id")
            for c, comm in enumerate(town.communities):
                claim("community", comm.id, f"towns[{t}].communities[{c}].id")
                for g, cell in enumerate(comm.grid_cells):
                    claim("grid cell", cell.id, f"towns[{t}].communities[{c}].grid_cells[{g}].id")
        kinds = {k.id for k in self.site_kinds}
        if len(kinds) != len(self.site_kinds):
            raise ValueError("site_kinds: ids must be unique")
        for i, site in enumerate(self.sites):
            claim("site", site.id, f"sites[{i}]({site.id}).id")
            if seen.get(site.grid_cell) != "grid cell":
                raise ValueError(f"sites[{i}]({site.id}).grid_cell: unknown {site.grid_cell!r}")
            if site.kind not in kinds:
                raise ValueError(f"sites[{i}]({site.id}).kind: unknown site kind {site.kind!r}")
        sensor_ids: set[str] = set()
        for i, s in enumerate(self.sensors):
            if s.id in sensor_ids:
                raise ValueError(f"sensors[{i}]({s.id}).id: used twice")
            sensor_ids.add(s.id)
            if seen.get(s.place) not in ("grid cell", "site"):
                raise ValueError(f"sensors[{i}]({s.id}).place: unknown place {s.place!r}")
        owner: dict[str, str] = {}
        dept_ids: set[str] = set()
        for i, dept in enumerate(self.departments):
            if dept.id in dept_ids:
                raise ValueError(f"departments[{i}]({dept.id}).id: used twice")
            dept_ids.add(dept.id)
            for m in dept.modules:
                if m in owner:
                    raise ValueError(
                        f"departments[{i}]({dept.id}).modules: {m!r} already belongs to "
                        f"{owner[m]!r} (one department per module)"
                    )
                owner[m] = dept.id
        return self

    # -- views --------------------------------------------------------------------------

    def cells(self) -> Iterator[tuple[Town, Community, GridCell]]:
        for town in self.towns:
            for comm in town.communities:
                for cell in comm.grid_cells:
                    yield town, comm, cell

    @cached_property
    def department_of_module(self) -> dict[str, Department]:
        return {m: d for d in self.departments for m in d.modules}

    @cached_property
    def department_of_record(self) -> dict[str, str]:
        """Event type → the id of the department that files it."""
        return {r: d.id for d in reversed(self.departments) for r in d.records}

    @cached_property
    def site_kind(self) -> dict[str, SiteKind]:
        return {k.id: k for k in self.site_kinds}

    def to_data(self) -> dict[str, Any]:
        """The model as plain data (what a model file holds); sensors as mappings."""
        data = self.model_dump(mode="json")
        data["sensors"] = [
            {"id": s.id, "kind": s.kind, "place": s.place, "risk_points": list(s.risk_points)}
            for s in self.sensors
        ]
        return data

    def sizes(self) -> dict[str, int]:
        """How big the district is (what ``yujing district`` reports)."""
        return {
            "towns": len(self.towns),
            "communities": sum(len(t.communities) for t in self.towns),
            "grid_cells": sum(1 for _ in self.cells()),
            "sites": len(self.sites),
            "industries": len({k.industry for k in self.site_kinds}),
            "sensors": len(self.sensors),
            "sensor_kinds": len({s.kind for s in self.sensors}),
            "departments": len(self.departments),
        }

    def check_catalogue(self, catalogue: Any, source: str = "district model") -> None:
        """Cross-check against a risk catalogue (raises ``ConfigError``): every module of
        the catalogue has its department, and no sensor claims to feed a risk point the
        catalogue feeds from another sensor kind. A sensor kind the catalogue watches
        nowhere, or a risk point it does not have (a smaller catalogue), is allowed."""
        modules = {m.id for m in catalogue.modules}
        errors = [
            f"{source}: departments: no department answers for module {m!r}"
            for m in sorted(modules - set(self.department_of_module))
        ]
        kind_of = {rp.id: rp.source.sensor_kind for rp in catalogue.risk_points}
        for i, s in enumerate(self.sensors):
            wrong = [rp for rp in s.risk_points if rp in kind_of and kind_of[rp] != s.kind]
            if wrong:
                errors.append(
                    f"{source}: sensors[{i}]({s.id}).risk_points: {wrong} "
                    f"{'is' if len(wrong) == 1 else 'are'} not fed by {s.kind!r} in the catalogue"
                )
            if len(errors) >= 20:
                break
        if errors:
            raise ConfigError("\n".join(errors))
