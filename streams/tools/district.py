"""``yujing district``: generate, check and look into the district model.

Outside the event flow: it shows the places the flow is about and who answers
for them (:mod:`streams.core.shared.district`). ``generate`` expands the spec for a
seed into the full model (YAML, or JSON for the fastest load) that
``YUJING_DISTRICT`` can point at; ``check`` validates a model against the
catalogue and says how long it takes to load; ``show`` prints the sizes, or
one scope's place in the hierarchy and the parties who answer for it. Phone
numbers are written to the model file only: everything printed masks them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from streams.core.notifications.plan import mask_phone
from streams.core.shared.config import ConfigError
from streams.core.shared.directory import KINDS, Directory
from streams.core.shared.district import DistrictModel
from streams.core.shared.district_gen import load_district
from streams.core.shared.regions import RegionIndex

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def add_district_command(sub: Any) -> None:
    p = sub.add_parser(
        "district",
        help="the district model: generate it for a seed, check it, show a scope's parties",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    verbs = p.add_subparsers(dest="verb", required=True)
    gen = verbs.add_parser("generate", help="expand the spec for a seed into the full model")
    gen.add_argument("--seed", type=int, help="default: the spec's own")
    gen.add_argument("--out", type=Path, required=True, help="FILE.yaml or FILE.json")
    check = verbs.add_parser("check", help="validate a model against the catalogue, time it")
    show = verbs.add_parser("show", help="sizes, or one scope: where it sits, who answers")
    show.add_argument("scope", nargs="?", help="a place, grid cell, community, town, industry")
    for v in (gen, check, show):
        v.add_argument(
            "--district", type=Path, help="model or spec (default: $YUJING_DISTRICT, built-in)"
        )
        v.set_defaults(func=_district)


def _load(args: argparse.Namespace, seed: int | None = None) -> tuple[DistrictModel, float]:
    from streams.core.shared.catalogue import load_catalogue
    from streams.runtime.settings import Settings

    settings = Settings.from_env()
    catalogue = load_catalogue(settings.catalogue)
    started = time.perf_counter()
    model = load_district(args.district or settings.district, catalogue, seed)
    return model, time.perf_counter() - started


def _district(args: argparse.Namespace) -> int:
    if args.verb == "generate":
        return _generate(args)
    model, seconds = _load(args)
    if args.verb == "check" or args.scope is None:
        sizes = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in model.sizes().items())
        print(f"district {model.district.id} ({model.district.name}): {sizes}")
        industries = Counter(model.site_kind[s.kind].industry for s in model.sites)
        print("sites by industry: " + ", ".join(f"{k} {v}" for k, v in sorted(industries.items())))
        print(
            "departments: "
            + ", ".join(f"{d.id} ({', '.join(d.modules)})" for d in model.departments if d.modules)
        )
        print(f"valid; loaded in {seconds:.2f} s")
        return 0
    return _show(model, args.scope)


def _generate(args: argparse.Namespace) -> int:
    out: Path = args.out
    if str(out) == "-":
        raise ConfigError("district generate: --out must be a file (the model holds phone numbers)")
    model, seconds = _load(args, args.seed)
    data = model.to_data()
    if out.suffix.lower() == ".json":
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    else:
        text = (
            f"# yujing district model: `yujing district generate --seed {model.seed}`\n"
            "# (streams/core/shared/district.py documents the fields). Fictional phone numbers.\n"
            + yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=120)
        )
    out.write_text(text + "\n", encoding="utf-8")
    sizes = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in model.sizes().items())
    print(
        f"wrote {out} (seed {model.seed}): {sizes}; generated in {seconds:.2f} s", file=sys.stderr
    )
    return 0


def _show(model: DistrictModel, scope: str) -> int:
    regions = RegionIndex(model)
    directory = Directory(regions)
    industry = scope.removeprefix("industry:")
    if scope not in regions.kind and industry in regions.industries:
        sites = [s for s in model.sites if model.site_kind[s.kind].industry == industry]
        towns = Counter(regions.locate(s.id).town for s in sites)  # type: ignore[union-attr]
        print(
            f"industry {industry}: {len(sites)} sites; by town: "
            + ", ".join(f"{t} {n}" for t, n in sorted(towns.items()))
        )
        return 0
    if scope not in regions.kind:
        raise ConfigError(f"district show: {scope!r} is no scope of district {model.district.id}")
    print(f"{regions.kind[scope]} {scope}: " + " < ".join(regions.ancestors(scope)))
    below = Counter(
        regions.kind[s] for s in regions.kind if s != scope and scope in regions.ancestors(s)
    )
    if below:
        names = {"place": "sites", "grid_cell": "grid cells", "community": "communities"}
        print("  holds " + ", ".join(f"{n:,} {names.get(k, k + 's')}" for k, n in below.items()))
    loc = regions.locate(scope)
    if loc is not None and loc.industry:
        print(f"  site kind {loc.site_kind}, industry {loc.industry}")
    sensors = [s for s in model.sensors if s.place == scope]
    if sensors:
        kinds = Counter(s.kind for s in sensors)
        print(f"  {len(sensors)} sensors: " + ", ".join(f"{k} x{n}" for k, n in kinds.items()))
    for kind in KINDS:
        if kind == "department":
            continue
        party = directory.resolve(kind, scope, None)
        if party is not None:
            print(
                f"  {kind:<16} {party.name:<44} {party.role:<20} {party.who}  "
                f"{mask_phone(party.phone)}"
            )
    return 0
