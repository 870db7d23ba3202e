"""The risk catalogue: modules and the risk points they group, as validated data.

Sits before the first hop of the flow: it says, for each kind of reading, which
risk point watches it, with which detector, how severe it is and how it routes
(reading → **signal** → alert → order → notification).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from streams.core.config import ConfigModel, load_yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "catalogue.yaml"

Severity = Literal["low", "medium", "high", "critical"]


class Module(ConfigModel):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str


class Source(ConfigModel):
    """What feeds a risk point: a sensor kind or a department event type."""

    sensor_kind: str | None = None
    event_type: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        if (self.sensor_kind is None) == (self.event_type is None):
            raise ValueError("give exactly one of sensor_kind or event_type")
        return self


class DetectorSpec(ConfigModel):
    kind: Literal["threshold"]
    version: int = Field(default=1, ge=1)
    params: dict[str, Any] = Field(default_factory=dict)


class RiskPoint(ConfigModel):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    module: str
    name: str
    source: Source
    detector: DetectorSpec
    severity: Severity
    emergency: bool
    auto_dispose: bool = False
    labels: dict[str, str] = Field(default_factory=dict)


class Catalogue(ConfigModel):
    version: Literal[1]
    modules: list[Module] = Field(min_length=1)
    risk_points: list[RiskPoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        module_ids = [m.id for m in self.modules]
        if len(set(module_ids)) != len(module_ids):
            raise ValueError("module ids must be unique")
        seen: set[str] = set()
        for rp in self.risk_points:
            if rp.module not in module_ids:
                raise ValueError(f"risk point {rp.id!r}: unknown module {rp.module!r}")
            if rp.id in seen:
                raise ValueError(f"risk point {rp.id!r} is defined twice")
            seen.add(rp.id)
        return self

    def for_sensor_kind(self, kind: str) -> list[RiskPoint]:
        """Risk points fed by this sensor kind."""
        return [rp for rp in self.risk_points if rp.source.sensor_kind == kind]

    def risk_point(self, rp_id: str) -> RiskPoint:
        for rp in self.risk_points:
            if rp.id == rp_id:
                return rp
        raise KeyError(rp_id)


def load_catalogue(path: Path | str = DEFAULT_PATH) -> Catalogue:
    """Load and validate a catalogue file (raises ``ConfigError`` naming file and field)."""
    return load_yaml(path, Catalogue)
