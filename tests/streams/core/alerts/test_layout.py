"""The console's synthetic geometry (core/alerts/layout.py): nested, tiled, deterministic.

Every grid cell lies inside its community's rectangle, every community inside its
town's, every town inside the district (the unit square); siblings do not overlap
and tile their parent; every area is positive; the same model gives the same
layout. On the small test district and on the default one (1,500 cells).
"""

from __future__ import annotations

import itertools
import json

import pytest
from districts import default_regions, small_regions

from streams.core.alerts.layout import layout, squarify
from streams.core.shared.regions import RegionIndex

EPS = 1e-9


def _inside(child: dict, parent: dict) -> bool:
    return (
        child["x"] >= parent["x"] - EPS
        and child["y"] >= parent["y"] - EPS
        and child["x"] + child["w"] <= parent["x"] + parent["w"] + EPS
        and child["y"] + child["h"] <= parent["y"] + parent["h"] + EPS
    )


def _overlap(a: dict, b: dict) -> float:
    dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return max(dx, 0.0) * max(dy, 0.0)


@pytest.fixture(params=["small", "default"])
def index(request: pytest.FixtureRequest) -> RegionIndex:
    return small_regions() if request.param == "small" else default_regions()


def test_every_scope_lies_inside_its_parent_and_has_an_area(index: RegionIndex) -> None:
    items = {it["scope"]: it for it in layout(index)["items"]}
    district = items[index.district]
    assert (district["x"], district["y"], district["w"], district["h"]) == (0, 0, 1, 1)
    for it in items.values():
        assert it["w"] > 0 and it["h"] > 0, it
        if it["parent"] is not None:
            assert _inside(it, items[it["parent"]]), (it, items[it["parent"]])
    cells = [it for it in items.values() if it["kind"] == "grid_cell"]
    for cell in cells:  # and so inside its town's, and the district's
        community = items[cell["parent"]]
        assert community["kind"] == "community"
        assert _inside(cell, community) and _inside(community, items[community["parent"]])


def test_every_grid_cell_of_the_model_is_drawn_once(index: RegionIndex) -> None:
    drawn = [it["scope"] for it in layout(index)["items"] if it["kind"] == "grid_cell"]
    assert sorted(drawn) == sorted(g.id for _, _, g in index.model.cells())


def test_siblings_do_not_overlap_and_tile_their_parent(index: RegionIndex) -> None:
    items = layout(index)["items"]
    by_parent: dict[str, list[dict]] = {}
    for it in items:
        if it["parent"] is not None:
            by_parent.setdefault(it["parent"], []).append(it)
    area = {it["scope"]: it["w"] * it["h"] for it in items}
    for parent, kids in by_parent.items():
        for a, b in itertools.combinations(kids, 2):
            assert _overlap(a, b) < 1e-7, (a, b)
        assert sum(area[k["scope"]] for k in kids) == pytest.approx(area[parent], abs=1e-3)


def test_areas_follow_the_cells_held(index: RegionIndex) -> None:
    items = layout(index)["items"]
    total = next(it["cells"] for it in items if it["kind"] == "district")
    for it in items:
        assert it["w"] * it["h"] == pytest.approx(it["cells"] / total, abs=2e-3)


def test_the_same_model_gives_the_same_layout(index: RegionIndex) -> None:
    first = json.dumps(layout(index), sort_keys=True)
    assert json.dumps(layout(RegionIndex(index.model)), sort_keys=True) == first
    kinds = [it["kind"] for it in layout(index)["items"]]
    assert kinds == sorted(kinds, key=["district", "town", "community", "grid_cell"].index)


def test_industries_are_listed_apart_as_map_scopes() -> None:
    index = default_regions()
    industries = layout(index)["industries"]
    assert [i["scope"] for i in industries] == sorted(f"industry:{i}" for i in index.industries)
    assert set(i["scope"] for i in industries) <= set(index.scopes())
    assert sum(i["sites"] for i in industries) == len(index.model.sites)


def test_squarify_fills_the_rectangle_in_order() -> None:
    rects = squarify([6, 6, 4, 3, 2, 2, 1], (0.0, 0.0, 6.0, 4.0))
    areas = [(x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in rects]
    assert areas == pytest.approx([6, 6, 4, 3, 2, 2, 1])
    assert max(x1 for _, _, x1, _ in rects) == 6.0 and max(y1 for *_, y1 in rects) == 4.0
