"""Compound and systemic rules: catalogue data, validated at load.

(signal → scoped signal → **compound / systemic alert**.) A compound rule
names risk points or modules that, co-occurring at one place within one
event-time window, are more dangerous together: each with a weight, a minimum
number of distinct modules and a severity. Systemic rules look across places
or over time: ``regional`` (many communities of one town), ``industry`` (many
sites of one industry), ``comprehensive`` (a district-wide risk index over
modules, with bands) and ``trend`` (a module's count per window rising
against its own history). With ``against_history`` a regional, industry or
comprehensive rule also asks what trend asks: is this window's measure (the
distinct places, or the signals behind the index) improbable under the mean
of the scope's own past windows? At a district's volume of hazards, three
communities of a town with a signal in one hour is chance, not a pattern.
(In a scope's first window, with no past to judge against, the floor alone
decides.)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.core.shared.config import ConfigModel

Severity = Literal["low", "medium", "high", "critical"]
LEVELS: tuple[Severity, ...] = ("low", "medium", "high", "critical")
_RULE_ID = r"^[a-z0-9_]+$"
_WEIGHTS: dict[Severity, float] = {"low": 1.0, "medium": 2.0, "high": 4.0, "critical": 8.0}


class Windows(ConfigModel):
    """Event-time windows shared by every compound and systemic rule."""

    #: How far behind a place's newest signal another of its signals may be and still count.
    allowed_lateness_s: float = Field(default=1800.0, ge=0)
    #: How long a window's state is kept after it closed (end + lateness), for stragglers
    #: from places lagging behind their scope and for the risk map.
    keep_s: float = Field(default=3600.0, ge=0)


class Member(ConfigModel):
    """One ingredient of a compound rule: a module or a single risk point, with a weight."""

    module: str | None = None
    risk_point: str | None = None
    weight: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> Member:
        if (self.module is None) == (self.risk_point is None):
            raise ValueError("give exactly one of module or risk_point")
        return self


class CompoundRule(ConfigModel):
    id: str = Field(pattern=_RULE_ID, max_length=48)
    name: str
    window_s: int = Field(ge=60, le=30 * 86400)
    members: list[Member] = Field(min_length=2)
    min_modules: int = Field(default=2, ge=2)
    #: The summed weights of the distinct matched members must reach this too.
    min_score: float = Field(default=0.0, ge=0)
    severity: Severity
    emergency: bool

    @model_validator(mode="after")
    def _reachable(self) -> CompoundRule:
        keys = [(m.module, m.risk_point) for m in self.members]
        if len(set(keys)) != len(keys):
            raise ValueError("a member is listed twice")
        return self


class SystemicRule(ConfigModel):
    id: str = Field(pattern=_RULE_ID, max_length=48)
    name: str
    kind: Literal["trend", "regional", "industry", "comprehensive"]
    window_s: int = Field(ge=60, le=30 * 86400)
    severity: Severity = "medium"
    emergency: bool = False
    #: Only signals of these modules count (empty: all).
    modules: list[str] = Field(default_factory=list)
    #: regional: distinct communities of one town; industry: distinct sites of one industry.
    min_places: int = Field(default=3, ge=2)
    #: comprehensive: points per signal by severity, and the bands of the index.
    severity_weights: dict[Severity, float] = Field(default_factory=lambda: dict(_WEIGHTS))
    bands: dict[Severity, float] = Field(default_factory=dict)
    min_modules: int = Field(default=1, ge=1)
    #: regional, industry, comprehensive: also judge against the scope's own past windows
    #: (``history`` of them at most, ``p_value``): the measure (distinct places; the signal
    #: count behind the index) must be improbable under their mean.
    against_history: bool = False
    #: trend: past windows remembered, needed before judging, count floor and tail probability.
    history: int = Field(default=24, ge=2, le=256)
    min_history: int = Field(default=6, ge=1)
    min_count: int = Field(default=3, ge=1)
    p_value: float = Field(default=0.001, gt=0, lt=1)

    @model_validator(mode="after")
    def _fits_kind(self) -> SystemicRule:
        if self.kind == "comprehensive":
            if not self.bands:
                raise ValueError("a comprehensive rule needs bands (level → index)")
            values = [self.bands[lv] for lv in LEVELS if lv in self.bands]
            if (
                any(v <= 0 for v in values)
                or values != sorted(values)
                or len(set(values)) != len(values)
            ):
                raise ValueError("bands must be positive and rise with the level")
        elif self.bands:
            raise ValueError(f"bands are only for comprehensive rules, not {self.kind}")
        if self.kind == "trend" and self.min_history > self.history:
            raise ValueError("min_history cannot exceed history")
        if self.kind == "trend" and self.against_history:
            raise ValueError("a trend rule always judges against its history")
        return self

    def band(self, index: float) -> tuple[Severity, float] | None:
        """The highest band ``index`` reaches, with its threshold."""
        hit = None
        for lv in LEVELS:
            if lv in self.bands and index >= self.bands[lv]:
                hit = (lv, self.bands[lv])
        return hit
