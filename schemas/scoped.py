"""Scoped signals: a single-risk signal re-keyed to a scope where its peers meet.

(signal → **scoped signal** → compound / systemic alert.) Internal. Signals are
keyed by place; a regional rule needs every signal of one town in one
partition, an industry rule every signal of one industry, the district index
every signal of the district. ``locate_signals`` looks each place up in the
regions file and publishes one scoped copy per scope it rolls up into, keyed
by ``scope_key`` (``town:<id>``, ``industry:<id>``, ``district:<id>``, or
``place:<id>`` for a place the regions file does not know).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Event, Id, Name
from schemas.signal import RiskSignal


class ScopedSignal(Event):
    """One signal as seen by one scope; ``event_time`` is the signal's."""

    schema_version: Literal[1] = 1
    scoped_id: Id = Field(description="Deterministic from (signal_id, scope_key).")
    scope_key: Id = Field(
        description="'town:<id>', 'industry:<id>', 'district:<id>' or 'place:<id>'; the topic key."
    )
    signal: RiskSignal
    grid_cell: Id | None = Field(default=None, description="The place's grid cell, if known.")
    community: Id | None = None
    town: Id | None = None
    district: Id | None = None
    site: Id | None = Field(default=None, description="The site, when the place is a site.")
    industry: Name | None = Field(default=None, description="The site's industry, if any.")
