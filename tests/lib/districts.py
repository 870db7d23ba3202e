"""District models for tests: the small hand-written one, and the default one, loaded once."""

from __future__ import annotations

import functools
from pathlib import Path

from streams.core.orders.routing import Router, load_routing
from streams.core.shared.directory import Directory
from streams.core.shared.regions import RegionIndex, load_regions

#: Three towns (wuchang, cangqian, liangzhu), seven communities, eight cells, eight sites.
SMALL = Path(__file__).resolve().parent / "small_district.yaml"


@functools.cache
def small_regions() -> RegionIndex:
    return load_regions(SMALL)


@functools.cache
def default_regions() -> RegionIndex:
    return load_regions()


@functools.cache
def default_directory() -> Directory:
    return Directory(default_regions())


def default_router() -> Router:
    """The default route tree over the default district's directory."""
    return Router(load_routing(), default_directory())
