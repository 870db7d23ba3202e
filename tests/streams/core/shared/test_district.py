"""The district model: Yuhang's scale by default, deterministic for a seed, validated at load."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from districts import SMALL, default_regions

from streams.core.shared.catalogue import load_catalogue
from streams.core.shared.config import ConfigError
from streams.core.shared.district import DEFAULT_PATH, DistrictModel
from streams.core.shared.district_gen import SpecFile, generate, load_district
from streams.core.shared.regions import load_regions
from streams.runtime.settings import Settings

CATALOGUE = load_catalogue()
SPEC = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def model() -> DistrictModel:
    return default_regions().model


def digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def spec_with(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SPEC)
    change(doc["generate"])
    return doc


def load_error(tmp_path: Path, doc: object, name: str = "district.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_district(path, CATALOGUE)
    message = str(info.value)
    assert str(path) in message
    return message


# --- scale ---------------------------------------------------------------------------


def test_the_default_district_has_yuhangs_scale() -> None:
    m = model()
    sizes = m.sizes()
    assert sizes["towns"] >= 12 and sizes["communities"] >= 150
    assert sizes["grid_cells"] >= 1500 and sizes["sites"] >= 3000
    assert sizes["sensors"] >= 20_000
    # every catalogue sensor kind is fitted somewhere, and feeds its catalogue risk points
    fed = {rp.source.sensor_kind: rp.id for rp in CATALOGUE.risk_points if rp.source.sensor_kind}
    assert {s.kind for s in m.sensors} == set(fed)
    assert all(s.risk_points == (fed[s.kind],) for s in m.sensors)
    # sites across the catalogue's industries (every industry label it uses), and more
    labelled = {rp.labels["industry"] for rp in CATALOGUE.risk_points if "industry" in rp.labels}
    industries = Counter(m.site_kind[s.kind].industry for s in m.sites)
    assert labelled <= set(industries)
    assert all(n >= 150 for n in industries.values())  # at least one per community
    # every town holds enough communities for the regional rule to see a spread
    assert all(len(t.communities) >= 4 for t in m.towns)


def test_the_directory_has_a_party_for_every_cell_site_and_module() -> None:
    m = model()
    assert all(cell.worker.phone for _, _, cell in m.cells())
    roles = Counter(s.party.role for s in m.sites)
    assert set(roles) == {"owner", "property_manager"}
    assert set(m.department_of_module) == {mod.id for mod in CATALOGUE.modules}
    assert len({d.id for d in m.department_of_module.values()}) == len(CATALOGUE.modules)
    phones = [cell.worker.phone for _, _, cell in m.cells()] + [s.party.phone for s in m.sites]
    assert len(set(phones)) == len(phones)  # one person, one number
    # fictional: +86 10 and nine digits is no Chinese number
    assert all(p.startswith("+8610") and len(p) == 14 for p in phones)


def test_phone_numbers_stay_out_of_every_repr() -> None:
    m = model()
    cell = m.towns[0].communities[0].grid_cells[0]
    site = m.sites[0]
    for thing in (cell, cell.worker, site, site.party, m.departments[0]):
        assert "+8610" not in repr(thing) and "+8610" not in str(thing)


# --- determinism ---------------------------------------------------------------------


def test_same_seed_same_model_other_seed_other_model() -> None:
    spec = SpecFile.model_validate(SPEC).generate
    a, b = generate(spec, CATALOGUE, seed=3), generate(spec, CATALOGUE, seed=3)
    c = generate(spec, CATALOGUE, seed=4)
    assert digest(a) == digest(b) != digest(c)
    assert a["seed"] == 3
    # the spec's counts hold whatever the seed
    for data in (a, c):
        m = DistrictModel.model_validate(data)
        assert (m.sizes()["communities"], m.sizes()["grid_cells"], m.sizes()["sites"]) == (
            spec.communities,
            spec.grid_cells,
            spec.sites,
        )
    # the default (spec seed 0) loads to the same model every time
    assert digest(load_district().model_dump(mode="json")) == digest(
        model().model_dump(mode="json")
    )


def test_a_generated_model_written_out_loads_back_the_same(tmp_path: Path) -> None:
    from streams.cli import main

    out = tmp_path / "model.json"
    assert main(["district", "generate", "--seed", "5", "--out", str(out)]) == 0
    again = load_district(out, CATALOGUE)
    assert again.seed == 5
    spec = SpecFile.model_validate(SPEC).generate
    assert (
        again.to_data() == DistrictModel.model_validate(generate(spec, CATALOGUE, seed=5)).to_data()
    )
    assert again.to_data()["sensors"][0] == generate(spec, CATALOGUE, seed=5)["sensors"][0]
    small = tmp_path / "small.yaml"
    doc = yaml.safe_load(SMALL.read_text())
    small.write_text(yaml.safe_dump(doc))
    assert load_district(small).sizes()["towns"] == 3


def test_district_generate_never_writes_phone_numbers_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from streams.cli import main

    assert main(["district", "generate", "--out", "-"]) == 2  # refused: a file only
    assert main(["district", "show", "site.linping.c01.restaurant-01"]) == 0
    assert main(["district", "show"]) == 0
    out = capsys.readouterr()
    assert "+8610" not in out.out + out.err
    assert "grid.cell.linping.c01." in out.out and "party_concerned" in out.out


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda g: g.__setitem__("communities", 10),
            ["generate", "communities: 10 cannot give 12 towns"],
            id="too-few-communities",
        ),
        pytest.param(
            lambda g: g["site_kinds"][0].__setitem__("weight", -1),
            ["generate.site_kinds[0](restaurant).weight"],
            id="negative-weight",
        ),
        pytest.param(
            lambda g: g["site_kinds"][2]["sensors"].__setitem__("dust_mg_m3", [3, 1]),
            ["site_kinds(factory).sensors.dust_mg_m3", "min <= max"],
            id="bad-sensor-range",
        ),
        pytest.param(
            lambda g: g["cell"]["sensors"].__setitem__("Radar DBZ", 1),
            ["cell.sensors: 'Radar DBZ' is no sensor kind name"],
            id="bad-sensor-kind",
        ),
        pytest.param(
            lambda g: g["departments"][1]["modules"].append("gas_safety"),
            ["departments[1](fire).modules: 'gas_safety' already belongs to 'gas'"],
            id="two-departments-one-module",
        ),
        pytest.param(
            lambda g: g["departments"].pop(0),
            ["no department answers for module 'gas_safety'"],
            id="module-without-department",
        ),
        pytest.param(
            lambda g: g["towns"].append({"id": "Bad Town", "name": "x"}),
            ["generate.towns[12](Bad Town).id", "pattern"],
            id="bad-town-id",
        ),
        pytest.param(
            lambda g: g.__setitem__("sitez", 1),
            ["generate.sitez", "Extra inputs"],
            id="misspelled-field",
        ),
    ],
)
def test_a_bad_spec_names_file_and_field(tmp_path: Path, change: Any, expected: list[str]) -> None:
    message = load_error(tmp_path, spec_with(change))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def _small() -> dict[str, Any]:
    return yaml.safe_load(SMALL.read_text())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda d: d["sites"][2].__setitem__("grid_cell", "cell.nowhere"),
            ["sites[2](site.restaurant.cangqian-02).grid_cell: unknown 'cell.nowhere'"],
            id="site-in-unknown-cell",
        ),
        pytest.param(
            lambda d: d["sites"][0].__setitem__("kind", "spaceport"),
            ["sites[0](site.restaurant.wuchang-01).kind: unknown site kind 'spaceport'"],
            id="unknown-site-kind",
        ),
        pytest.param(
            lambda d: d["sites"][0]["party"].__setitem__("role", "tenant"),
            ["sites[0](site.restaurant.wuchang-01).party.role", "'owner' or 'property_manager'"],
            id="bad-party-role",
        ),
        pytest.param(
            lambda d: d["towns"][0]["communities"][0]["grid_cells"][0]["worker"].__setitem__(
                "phone", "call me"
            ),
            ["towns[0](wuchang).communities[0](wuchang.wuchang-1).grid_cells[0]", "worker.phone"],
            id="bad-worker-phone",
        ),
        pytest.param(
            lambda d: d["towns"][0]["communities"][0]["grid_cells"][0].pop("worker"),
            ["grid_cells[0](cell.wuchang.wuchang-1.01).worker", "Field required"],
            id="cell-without-worker",
        ),
        pytest.param(
            lambda d: d["towns"][1].__setitem__("id", "wuchang"),
            ["towns[1].id: town id 'wuchang' is already a town's"],
            id="duplicate-id",
        ),
        pytest.param(
            lambda d: d.__setitem__(
                "sensors", [{"id": "s1", "kind": "gas_lel", "place": "site.nowhere"}]
            ),
            ["sensors[0](s1).place: unknown place 'site.nowhere'"],
            id="sensor-at-unknown-place",
        ),
        pytest.param(
            lambda d: d.__setitem__(
                "sensors",
                [
                    {
                        "id": "s1",
                        "kind": "gas_lel",
                        "place": "site.restaurant.wuchang-01",
                        "risk_points": ["toxic_gas_leak"],
                    }
                ],
            ),
            ["sensors[0](s1).risk_points: ['toxic_gas_leak'] is not fed by 'gas_lel'"],
            id="sensor-feeding-another-risk-point",
        ),
    ],
)
def test_a_bad_model_names_file_and_field(tmp_path: Path, change: Any, expected: list[str]) -> None:
    doc = _small()
    change(doc)
    message = load_error(tmp_path, doc)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_a_model_loads_from_json_too_and_bad_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(_small()))
    assert load_regions(path).locate("site.factory.wuchang-01").industry == "manufacturing"  # type: ignore[union-attr]
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"model.json: not valid JSON"):
        load_district(path)


def test_yujing_district_points_at_a_model_and_yujing_regions_still_works(tmp_path: Path) -> None:
    assert Settings.from_env({}).district == DEFAULT_PATH
    assert Settings.from_env({"YUJING_DISTRICT": str(SMALL)}).district == SMALL
    assert Settings.from_env({"YUJING_REGIONS": str(SMALL)}).district == SMALL  # former name
    both = {"YUJING_DISTRICT": str(SMALL), "YUJING_REGIONS": "/elsewhere.yaml"}
    assert Settings.from_env(both).district == SMALL


def test_a_smaller_catalogue_watches_fewer_sensors_and_the_model_still_loads(
    tmp_path: Path,
) -> None:
    """A catalogue of one module: the district keeps its sensors; those it does not watch
    feed no risk point, and its departments still answer for that module."""
    text = DEFAULT_PATH.parent.joinpath("catalogue.yaml").read_text()
    doc = yaml.safe_load(text)
    doc["modules"] = [m for m in doc["modules"] if m["id"] == "flood_control"]
    doc["risk_points"] = [rp for rp in doc["risk_points"] if rp["module"] == "flood_control"]
    doc["compound_rules"], doc["systemic_rules"] = [], []
    doc["silences"] = [sp for sp in doc["silences"] if sp["module"] == "flood_control"]
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(doc))
    small = load_catalogue(path)
    m = load_district(DEFAULT_PATH, small)
    assert m.sizes()["sensors"] == model().sizes()["sensors"]
    fed = {s.kind for s in m.sensors if s.risk_points}
    cells = {"water_depth_cm", "river_level_m", "rain_mm_h", "drain_level_cm"}
    assert fed == cells | {"pump_station", "water_supply_station"}
    from streams.tools.simulate.command import District, Simulation

    sim = Simulation(District(towns=1, communities=1, hours=1.0, incidents=2), small, m)
    assert cells <= {s.kind for s in sim.sensors} <= fed  # a station where the slice has one
