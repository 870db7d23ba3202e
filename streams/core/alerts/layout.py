"""A synthetic geometry of the district for the operator console: nested rectangles.

(alert → map → **operator view**.) The district model has no coordinates, so the
console draws its hierarchy (district → towns → communities → grid cells) as a
squarified treemap in the unit square: each scope a rectangle inside its parent's,
its area proportional to the grid cells it holds, siblings side by side without
overlap. Pure and deterministic: built from the
:class:`~streams.core.shared.regions.RegionIndex` alone, children taken largest
first and, at equal size, by scope id; edges rounded to 4 decimals (edges, not
widths, so siblings still touch and children stay inside their parents).

Industries (the per-industry view) have no place in the hierarchy: they are listed
apart, as the ``industry:<id>`` scopes the risk map
(:class:`~streams.core.alerts.riskmap.RiskMap`) names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streams.core.shared.regions import RegionIndex

Json = dict[str, Any]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1
#: The hierarchy the layout draws, top down (sites sit in cells: they are not drawn).
KINDS = ("district", "town", "community", "grid_cell")
DIGITS = 4


def _worst(row: Sequence[float], side: float) -> float:
    """The worst aspect ratio of ``row`` (areas) laid along a side of length ``side``."""
    total = sum(row)
    return max(
        max(side * side * a / (total * total), total * total / (side * side * a)) for a in row
    )


def squarify(areas: Sequence[float], rect: Rect) -> list[Rect]:
    """Rectangles of the given ``areas`` (scaled to fill ``rect``), in the same order,
    by the squarified treemap of Bruls, Huizing and van Wijk (rows along the short side).

    >>> squarify([1, 1], (0.0, 0.0, 2.0, 1.0))
    [(0.0, 0.0, 1.0, 1.0), (1.0, 0.0, 2.0, 1.0)]
    """
    x0, y0, x1, y1 = rect
    total = sum(areas)
    scale = (x1 - x0) * (y1 - y0) / total if total > 0 else 0.0
    todo = [a * scale for a in areas]
    out: list[Rect] = []
    i = 0
    while i < len(todo):
        w, h = x1 - x0, y1 - y0
        side = min(w, h)
        row = [todo[i]]
        while i + len(row) < len(todo):
            longer = [*row, todo[i + len(row)]]
            if _worst(longer, side) > _worst(row, side):
                break
            row = longer
        last = i + len(row) == len(todo)
        thick = sum(row) / side if side > 0 else 0.0
        pos = 0.0
        for k, a in enumerate(row):
            along = a / thick if thick > 0 else 0.0
            end = side if k == len(row) - 1 else pos + along  # no gap from float sums
            if w >= h:  # a column at the left
                right = x1 if last else x0 + thick
                out.append((x0, y0 + pos, right, y0 + end))
            else:  # a row at the top
                bottom = y1 if last else y0 + thick
                out.append((x0 + pos, y0, x0 + end, bottom))
            pos = end
        if w >= h:
            x0 += thick
        else:
            y0 += thick
        i += len(row)
    return out


def _children(index: RegionIndex) -> dict[str, list[str]]:
    kids: dict[str, list[str]] = {}
    for child, parent in index.parent.items():
        if index.kind.get(child) in KINDS:
            kids.setdefault(parent, []).append(child)
    return kids


def _names(index: RegionIndex) -> dict[str, str]:
    model = index.model
    names = {model.district.id: model.district.name}
    for t in model.towns:
        names[t.id] = t.name
        for c in t.communities:
            names[c.id] = c.name
            for g in c.grid_cells:
                names[g.id] = g.name or g.id
    return names


def _round(v: float) -> float:
    return round(v, DIGITS) + 0.0  # no -0.0


def layout(index: RegionIndex) -> Json:
    """The district as nested rectangles, and its industries.

    ``items``: one per scope, top down (district, towns, communities, cells), each
    kind by scope id: ``scope``, ``kind``, ``parent`` (None for the district),
    ``name``, ``depth``, ``cells`` (grid cells within) and ``x``, ``y``, ``w``, ``h``
    in the unit square (y down). ``industries``: ``scope`` (``industry:<id>``),
    ``name`` and ``sites`` (how many sites are of it).
    """
    kids = _children(index)
    weight: dict[str, int] = {}

    def count(scope: str) -> int:
        if scope not in weight:
            below = kids.get(scope, [])
            weight[scope] = sum(count(c) for c in below) if below else 1
        return weight[scope]

    root = index.district
    count(root)
    rects: dict[str, Rect] = {root: (0.0, 0.0, 1.0, 1.0)}
    stack = [root]
    while stack:
        scope = stack.pop()
        below = sorted(kids.get(scope, []), key=lambda s: (-weight[s], s))
        for child, r in zip(below, squarify([weight[c] for c in below], rects[scope]), strict=True):
            rects[child] = r
            stack.append(child)
    names = _names(index)
    depth = {k: i for i, k in enumerate(KINDS)}
    items = []
    for scope in sorted(rects, key=lambda s: (depth[index.kind[s]], s)):
        x0, y0, x1, y1 = (_round(v) for v in rects[scope])
        items.append(
            {
                "scope": scope,
                "kind": index.kind[scope],
                "parent": index.parent.get(scope),
                "name": names.get(scope, scope),
                "depth": depth[index.kind[scope]],
                "cells": weight[scope],
                "x": x0,
                "y": y0,
                "w": _round(x1 - x0),
                "h": _round(y1 - y0),
            }
        )
    return {
        "district": root,
        "name": index.model.district.name,
        "items": items,
        "industries": _industries(index),
    }


def _industries(index: RegionIndex) -> list[Json]:
    sites: dict[str, int] = {}
    kinds = index.model.site_kind
    for s in index.model.sites:
        industry = kinds[s.kind].industry
        sites[industry] = sites.get(industry, 0) + 1
    return [
        {
            "scope": f"industry:{i}",
            "name": i.replace("_", " ").capitalize(),
            "sites": sites.get(i, 0),
        }
        for i in sorted(index.industries)
    ]
