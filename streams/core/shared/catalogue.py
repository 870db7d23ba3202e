"""The risk catalogue: modules and the risk points they group, as validated data.

Sits before the first hop of the flow: it says, for each kind of reading, which
risk point watches it, with which detector, how severe it is and how it routes
(reading → **signal** → alert → order → notification).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from streams.core.alerts.rules import CompoundRule, SystemicRule, Windows
from streams.core.shared.config import ConfigModel, load_yaml
from streams.core.signals.detectors import Detector, detector_class
from streams.core.signals.trigger import Trigger

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "catalogue.yaml"

Severity = Literal["low", "medium", "high", "critical"]


class Module(ConfigModel):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str


class Source(ConfigModel):
    """What feeds a risk point: a sensor kind, or department event types."""

    sensor_kind: str | None = None
    event_types: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        if (self.sensor_kind is None) == (self.event_types is None):
            raise ValueError("give exactly one of sensor_kind or event_types")
        return self

    @property
    def input(self) -> str:
        return "point" if self.sensor_kind is not None else "record"


class DetectorSpec(ConfigModel):
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _buildable(self) -> DetectorSpec:
        cls = detector_class(self.kind)  # ValueError names the known kinds
        try:
            cls.from_params(self.params)  # ValueError names the bad parameter
        except TypeError as err:  # e.g. float(None): still the file's fault, say so
            raise ValueError(f"{self.kind}: a parameter has the wrong type: {err}") from None
        return self

    @property
    def cls(self) -> type[Detector[Any]]:
        return detector_class(self.kind)

    @property
    def version(self) -> int:
        return self.cls.version


class TriggerSpec(ConfigModel):
    threshold: float | None = Field(default=None, ge=0, le=1)
    clear: float | None = Field(default=None, ge=0, le=1)
    for_s: float | None = Field(default=None, ge=0)


class RiskPoint(ConfigModel):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    module: str
    name: str
    source: Source
    detector: DetectorSpec
    trigger: TriggerSpec = Field(default_factory=TriggerSpec)
    severity: Severity
    emergency: bool
    auto_dispose: bool = False
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fits_source(self) -> RiskPoint:
        cls = self.detector.cls
        if len(f"{cls.kind}.{self.id}") > 64:
            raise ValueError(
                f"id is too long: signals name their detector '{cls.kind}.{self.id}', "
                "which must fit in 64 characters"
            )
        if cls.input != self.source.input:
            want = "sensor_kind" if cls.input == "point" else "event_types"
            raise ValueError(f"detector {cls.kind!r} reads {cls.input}s: its source needs {want}")
        det = cls.from_params(self.detector.params)
        wanted = getattr(det, "event_types", None)
        if callable(wanted) and not set(wanted()) <= set(self.source.event_types or []):
            raise ValueError(
                f"detector {cls.kind!r} compares {sorted(wanted())}: "
                "list them in source.event_types"
            )
        self.make_trigger()  # ValueError if threshold/clear disagree
        return self

    def make_trigger(self) -> Trigger:
        spec = {k: v for k, v in self.trigger.model_dump().items() if v is not None}
        return Trigger.from_params(spec, default=self.detector.cls.default_trigger())


class SilencePoint(ConfigModel):
    """A dead-man's switch over sensor kinds (:mod:`streams.core.signals.silence`): a
    sensor of one of ``heartbeats``' kinds that has not reported for ``after`` of its
    kind's heartbeats (seconds) of its partition's event time raises this point's signal."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=56)
    module: str
    name: str
    heartbeats: dict[str, float] = Field(min_length=1)
    after: float = Field(default=4.0, ge=2.0, le=100.0)
    severity: Severity
    emergency: bool = False
    #: a person restores a silent sensor: nothing machine-checks the repair
    auto_dispose: Literal[False] = False
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _positive(self) -> SilencePoint:
        for kind, beat in self.heartbeats.items():
            if not beat > 0:
                raise ValueError(f"heartbeats.{kind}: a heartbeat is a positive number of s")
        return self


class Catalogue(ConfigModel):
    version: Literal[1]
    modules: list[Module] = Field(min_length=1)
    risk_points: list[RiskPoint] = Field(min_length=1)
    #: Compound and systemic rules (streams.core.alerts.rules) and their event-time windows.
    windows: Windows = Field(default_factory=Windows)
    compound_rules: list[CompoundRule] = Field(default_factory=list)
    systemic_rules: list[SystemicRule] = Field(default_factory=list)
    #: Dead-man's switches: sensors that stop reporting (streams.core.signals.silence).
    silences: list[SilencePoint] = Field(default_factory=list)

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
        self._silences_fit(module_ids, seen)
        rule_ids = [r.id for r in self.compound_rules] + [r.id for r in self.systemic_rules]
        if len(set(rule_ids)) != len(rule_ids) or "single" in rule_ids:
            raise ValueError("compound and systemic rule ids must be unique (and not 'single')")
        for rule in self.compound_rules:
            for m in rule.members:
                if m.module is not None and m.module not in module_ids:
                    raise ValueError(f"compound rule {rule.id!r}: unknown module {m.module!r}")
                if m.risk_point is not None and m.risk_point not in seen:
                    raise ValueError(
                        f"compound rule {rule.id!r}: unknown risk point {m.risk_point!r}"
                    )
            modules = {m.module or self.risk_point(str(m.risk_point)).module for m in rule.members}
            if len(modules) < rule.min_modules:
                raise ValueError(
                    f"compound rule {rule.id!r}: min_modules {rule.min_modules} but its members "
                    f"span only {len(modules)} modules"
                )
        for srule in self.systemic_rules:
            for mod in srule.modules:
                if mod not in module_ids:
                    raise ValueError(f"systemic rule {srule.id!r}: unknown module {mod!r}")
        return self

    def _silences_fit(self, module_ids: list[str], seen: set[str]) -> None:
        read = {rp.source.sensor_kind for rp in self.risk_points}
        watched: dict[str, str] = {}
        for sp in self.silences:
            if sp.module not in module_ids:
                raise ValueError(f"silence {sp.id!r}: unknown module {sp.module!r}")
            if sp.id in seen:
                raise ValueError(f"silence {sp.id!r}: the id is taken by another point")
            seen.add(sp.id)
            for kind in sp.heartbeats:
                if kind not in read:
                    raise ValueError(f"silence {sp.id!r}: no risk point reads sensor kind {kind!r}")
                if kind in watched:
                    raise ValueError(
                        f"silence {sp.id!r}: sensor kind {kind!r} is watched by {watched[kind]!r}"
                    )
                watched[kind] = sp.id

    def silence_of(self) -> dict[str, SilencePoint]:
        """The dead-man's switch over each sensor kind that has one."""
        return {kind: sp for sp in self.silences for kind in sp.heartbeats}

    def point(self, rp_id: str) -> RiskPoint | SilencePoint:
        """The risk point or silence point ``rp_id`` (what a signal names)."""
        for sp in self.silences:
            if sp.id == rp_id:
                return sp
        return self.risk_point(rp_id)

    def for_sensor_kind(self, kind: str) -> list[RiskPoint]:
        """Risk points fed by this sensor kind."""
        return [rp for rp in self.risk_points if rp.source.sensor_kind == kind]

    def for_event_type(self, event_type: str) -> list[RiskPoint]:
        """Risk points fed by this department event type."""
        return [rp for rp in self.risk_points if event_type in (rp.source.event_types or ())]

    def fed_by_records(self, rp_id: str) -> bool:
        """Whether department records (about a place), not a sensor, feed ``rp_id``.

        A risk point gone from the catalogue counts as sensor-fed: nothing judges it,
        so its order escalates to a person.
        """
        try:
            return self.risk_point(rp_id).source.input == "record"
        except KeyError:
            return False

    def risk_point(self, rp_id: str) -> RiskPoint:
        for rp in self.risk_points:
            if rp.id == rp_id:
                return rp
        raise KeyError(rp_id)


def load_catalogue(path: Path | str = DEFAULT_PATH) -> Catalogue:
    """Load and validate a catalogue file (raises ``ConfigError`` naming file and field)."""
    return load_yaml(path, Catalogue)
