"""The district generator: a small spec and a seed become the full district model.

Not in the event flow: it makes the places the flow is about (see
:mod:`streams.core.shared.district`). The spec says how many towns, communities, grid
cells and sites there are, which kinds of site (with their industry, share,
sensors and records) and which departments; the seed decides everything else —
how the communities, cells and sites are shared out, how many sensors of each
kind a place has, the names, and the (fictional) phone numbers. Same spec and
seed, same model, byte for byte: every draw comes from one generator seeded
with the seed, in the spec's order.

Ids: town ``linping``, community ``linping.c01``, grid cell
``cell.linping.c01.03``, site ``site.linping.c01.restaurant-02``, sensor
``gas_lel-1@site.linping.c01.restaurant-02``. A community lists its sites one
kind after another (the first sites of a community are of different kinds), so
a slice of a few sites per community still shows every kind.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from streams.core.shared.config import ConfigError, ConfigModel, load_data, validate_data
from streams.core.shared.district import DEFAULT_PATH, ID, NAME, DistrictModel

#: a fixed count, or [min, max] drawn per place
Count = int | tuple[int, int]

SURNAMES = "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao"
GIVEN = "Wei Fang Na Min Jing Li Qiang Lei Jun Yang Yong Yan Jie Tao Ming Chao Xia Hua Ping Hui"


class Named(ConfigModel):
    id: str = Field(pattern=ID, max_length=24)
    name: str


class CellSpec(ConfigModel):
    sensors: dict[str, Count] = Field(default_factory=dict)
    records: list[str] = Field(default_factory=list)


class SiteKindSpec(ConfigModel):
    id: str = Field(pattern=NAME, max_length=24)
    name: str
    industry: str = Field(pattern=NAME, max_length=64)
    weight: float = Field(gt=0)
    min_per_community: int = Field(default=1, ge=0)
    #: Share of these sites a property manager answers for (the owner for the rest).
    property_manager_share: float = Field(default=0.0, ge=0, le=1)
    sensors: dict[str, Count] = Field(default_factory=dict)
    records: list[str] = Field(default_factory=list)


class DepartmentSpec(ConfigModel):
    id: str = Field(pattern=NAME, max_length=48)
    name: str
    modules: list[str] = Field(default_factory=list)
    records: list[str] = Field(default_factory=list)


class Spec(ConfigModel):
    seed: int = 0
    district: Named
    towns: list[Named] = Field(min_length=1)
    communities: int = Field(ge=1, le=100_000)
    min_communities: int = Field(default=1, ge=1)
    grid_cells: int = Field(ge=1, le=1_000_000)
    min_cells: int = Field(default=1, ge=1)
    sites: int = Field(ge=0, le=1_000_000)
    departments: list[DepartmentSpec] = Field(min_length=1)
    cell: CellSpec = Field(default_factory=CellSpec)
    site_kinds: list[SiteKindSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _fits(self) -> Spec:
        if self.communities < len(self.towns) * self.min_communities:
            raise ValueError(
                f"communities: {self.communities} cannot give {len(self.towns)} towns "
                f"min_communities={self.min_communities} each"
            )
        if self.grid_cells < self.communities * self.min_cells:
            raise ValueError(
                f"grid_cells: {self.grid_cells} cannot give {self.communities} communities "
                f"min_cells={self.min_cells} each"
            )
        floor = self.communities * sum(k.min_per_community for k in self.site_kinds)
        if self.sites < floor:
            raise ValueError(f"sites: {self.sites} is below the kinds' minimums ({floor})")
        ids = [t.id for t in self.towns]
        if len(set(ids)) != len(ids) or self.district.id in ids:
            raise ValueError("towns: ids must be unique (and differ from the district's)")
        kinds = [k.id for k in self.site_kinds]
        if len(set(kinds)) != len(kinds):
            raise ValueError("site_kinds: ids must be unique")
        for where, sensors in [("cell", self.cell.sensors)] + [
            (f"site_kinds({k.id})", k.sensors) for k in self.site_kinds
        ]:
            for kind, n in sensors.items():
                if not re.fullmatch(NAME, kind) or len(kind) > 64:
                    raise ValueError(f"{where}.sensors: {kind!r} is no sensor kind name ({NAME})")
                lo, hi = (n, n) if isinstance(n, int) else n
                if not 0 <= lo <= hi <= 100:
                    raise ValueError(f"{where}.sensors.{kind}: want 0 <= min <= max <= 100")
        return self


class SpecFile(ConfigModel):
    version: Literal[1]
    generate: Spec


def apportion(total: int, weights: list[float], minimum: int) -> list[int]:
    """``total`` shared by ``weights`` after ``minimum`` each (largest remainder).

    >>> apportion(10, [1.0, 1.0, 2.0], 1)
    [3, 3, 4]
    """
    rest = total - minimum * len(weights)
    w = sum(weights)
    raw = [rest * x / w for x in weights]
    out = [minimum + int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (int(raw[i]) - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


class _Phones:
    """Fictional, unique numbers: +86 10 and nine digits (Beijing numbers have eight)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.used = rng, set[int]()

    def __call__(self) -> str:
        while True:
            n = self.rng.randrange(100_000_000, 1_000_000_000)
            if n not in self.used:
                self.used.add(n)
                return f"+8610{n}"


def generate(spec: Spec, catalogue: Any, seed: int | None = None) -> dict[str, Any]:
    """The full model (as plain data, ready to validate or to write) for ``spec`` and ``seed``."""
    seed = spec.seed if seed is None else seed
    rng = random.Random(f"yujing-district:{seed}")
    phone = _Phones(rng)
    surnames, given = SURNAMES.split(), GIVEN.split()

    def person() -> dict[str, str]:
        return {"name": f"{rng.choice(surnames)} {rng.choice(given)}", "phone": phone()}

    feeds: dict[str, list[str]] = {}
    for rp in catalogue.risk_points:
        if rp.source.sensor_kind:
            feeds.setdefault(rp.source.sensor_kind, []).append(rp.id)
    sensors: list[dict[str, Any]] = []

    def fit(place: str, kinds: dict[str, Count]) -> None:
        for kind, n in kinds.items():
            count = n if isinstance(n, int) else rng.randint(n[0], n[1])
            for k in range(count):
                sensors.append(
                    {
                        "id": f"{kind}-{k + 1}@{place}",
                        "kind": kind,
                        "place": place,
                        "risk_points": feeds.get(kind, []),
                    }
                )

    n_comm = apportion(
        spec.communities, [rng.uniform(0.6, 1.4) for _ in spec.towns], spec.min_communities
    )
    n_cells = apportion(
        spec.grid_cells, [rng.uniform(0.5, 1.5) for _ in range(spec.communities)], spec.min_cells
    )
    site_floor = sum(k.min_per_community for k in spec.site_kinds)
    n_sites = apportion(spec.sites, [c * rng.uniform(0.7, 1.3) for c in n_cells], site_floor)
    kind_weights = [k.weight for k in spec.site_kinds]
    towns: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    ci = 0
    for town, count in zip(spec.towns, n_comm, strict=True):
        short = town.name.split()[0]
        communities = []
        for c in range(count):
            cid = f"{town.id}.c{c + 1:02d}"
            cname = f"{short} Community {c + 1}"
            cells = []
            for g in range(n_cells[ci]):
                gid = f"cell.{cid}.{g + 1:02d}"
                cells.append({"id": gid, "name": f"{cname} grid {g + 1}", "worker": person()})
                fit(gid, spec.cell.sensors)
            communities.append(
                {
                    "id": cid,
                    "name": cname,
                    "office": {"name": f"{cname} office", "phone": phone()},
                    "grid_cells": cells,
                }
            )
            extra = n_sites[ci] - site_floor
            drawn = rng.choices(range(len(spec.site_kinds)), kind_weights, k=extra)
            per_kind = [k.min_per_community + drawn.count(i) for i, k in enumerate(spec.site_kinds)]
            rot = ci % len(spec.site_kinds)
            order = list(range(rot, len(spec.site_kinds))) + list(range(rot))
            for rank in range(max(per_kind, default=0)):
                for i in order:
                    if rank >= per_kind[i]:
                        continue
                    kind = spec.site_kinds[i]
                    sid = f"site.{cid}.{kind.id}-{rank + 1:02d}"
                    role = (
                        "property_manager"
                        if rng.random() < kind.property_manager_share
                        else "owner"
                    )
                    sites.append(
                        {
                            "id": sid,
                            "name": f"{kind.name} {rank + 1}, {cname}",
                            "kind": kind.id,
                            "grid_cell": rng.choice(cells)["id"],
                            "party": {"role": role, **person()},
                        }
                    )
                    fit(sid, kind.sensors)
            ci += 1
        towns.append(
            {
                "id": town.id,
                "name": town.name,
                "office": {"name": f"{town.name} duty office", "phone": phone()},
                "communities": communities,
            }
        )
    return {
        "version": 1,
        "seed": seed,
        "district": {
            "id": spec.district.id,
            "name": spec.district.name,
            "office": {"name": f"{spec.district.name} command centre", "phone": phone()},
        },
        "departments": [{**d.model_dump(), "phone": phone()} for d in spec.departments],
        "cell_records": list(spec.cell.records),
        "site_kinds": [
            {"id": k.id, "name": k.name, "industry": k.industry, "records": list(k.records)}
            for k in spec.site_kinds
        ],
        "towns": towns,
        "sites": sites,
        "sensors": sensors,
    }


def expand_if_spec(path: Path, data: Any, catalogue: Any, seed: int | None) -> Any:
    """``data`` itself if it is a full model, else the model its spec generates."""
    if not (isinstance(data, dict) and "generate" in data):
        if seed is not None:
            raise ConfigError(
                f"{path}: a full model cannot be regenerated for a seed: "
                "give a spec (a file with a 'generate' section)"
            )
        return data
    spec = validate_data(path, data, SpecFile).generate
    if catalogue is None:
        from streams.core.shared.catalogue import load_catalogue

        catalogue = load_catalogue()
    return generate(spec, catalogue, seed)


def load_district(
    path: Path | str = DEFAULT_PATH, catalogue: Any = None, seed: int | None = None
) -> DistrictModel:
    """Load a full model or expand a spec (for ``seed``, else its own), and validate it.

    With a ``catalogue``, also cross-check modules, sensor kinds and risk points.
    Raises ``ConfigError`` naming the file and the field.
    """
    path = Path(path)
    data = load_data(path)
    data = expand_if_spec(path, data, catalogue, seed)
    model = validate_data(path, data, DistrictModel)
    if catalogue is not None:
        model.check_catalogue(catalogue, str(path))
    return model
