"""Alerts: the warnings operators watch.

(reading → signal → **alert** → order → notification.) An alert is single
(one signal), compound (several risks at one place in one window) or systemic
(trend, regional, industry, comprehensive). It carries its portrait: the
signals behind it and a human summary.

Compound and systemic alerts are one per (rule, scope, window): the id is
deterministic, and the alert is re-published with ``version`` + 1 as evidence
grows. Their fields beyond version 1's single alert (``scope_kind``, the
window, ``portrait``, ``covers``, ``inhibited_by``) are optional, so readers of
single alerts are unaffected.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.base import Event, Id, Labels, Name, Text

Level = Literal["low", "medium", "high", "critical"]


class AlertKind(StrEnum):
    SINGLE = "single"
    COMPOUND = "compound"
    SYSTEMIC = "systemic"


class ScopeKind(StrEnum):
    """What an alert's ``scope`` names."""

    PLACE = "place"
    GRID_CELL = "grid_cell"
    COMMUNITY = "community"
    TOWN = "town"
    INDUSTRY = "industry"
    DISTRICT = "district"


class Contribution(BaseModel):
    """One single-risk signal behind a compound or systemic alert."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    signal_id: Id
    risk_point: Name
    module: Name
    place_id: Id
    severity: Level
    score: float
    weight: float = Field(description="What it added to the rule's score or index.")
    indicators: dict[str, float] = Field(default_factory=dict, max_length=32)
    source_event_ids: list[Id] = Field(min_length=1, max_length=64)
    event_time: AwareDatetime


class Portrait(BaseModel):
    """Why a compound or systemic alert fired: its evidence, measured against the rule."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    rule_kind: Literal["compound", "trend", "regional", "industry", "comprehensive"]
    score: float = Field(description="Weighted score, index or count the rule compares.")
    threshold: float = Field(description="What the score had to reach for this level.")
    members: dict[str, int] = Field(
        default_factory=dict,
        description="Distinct modules, communities or sites behind it → their signal count.",
    )
    signal_count: int = Field(ge=0, description="All signals in the window (may exceed listed).")
    contributions: list[Contribution] = Field(
        max_length=64, description="The signals, most severe first (at most 64)."
    )
    baseline: float | None = Field(default=None, description="Trend: the mean of past windows.")


class Alert(Event):
    """One warning; ``version`` grows as evidence for the same alert grows."""

    schema_version: Literal[1] = 1
    alert_id: Id = Field(description="Deterministic per (rule, scope, window); the topic key.")
    version: int = Field(default=1, ge=1)
    kind: AlertKind
    rule_id: Name
    level: Level
    emergency: bool
    auto_disposable: bool = False
    scope: Id = Field(description="Place id, town, industry or 'district', depending on kind.")
    module: Name
    risk_points: list[Name] = Field(min_length=1, max_length=64)
    labels: Labels = Field(default_factory=dict, max_length=32)
    signal_ids: list[Id] = Field(min_length=1, max_length=256)
    source_keys: list[Id] = Field(
        default_factory=list,
        max_length=256,
        description="Sensors or subjects whose readings raised it; what auto-disposal re-checks.",
    )
    summary: Text = Field(description="What, where, how bad, why — for a person.")
    scope_kind: ScopeKind | None = Field(
        default=None, description="What ``scope`` names (compound and systemic alerts)."
    )
    window_start: AwareDatetime | None = Field(
        default=None, description="Event-time window [start, end) the evidence falls in."
    )
    window_end: AwareDatetime | None = None
    portrait: Portrait | None = Field(
        default=None, description="Compound and systemic alerts: the evidence and the rule."
    )
    covers: list[Id] = Field(
        default_factory=list,
        max_length=256,
        description="Systemic: ids of the lower-level alerts it covers (links).",
    )
    inhibited_by: Id | None = Field(
        default=None,
        description="Set when a systemic alert covers this one: it is not paged separately.",
    )
