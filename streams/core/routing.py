"""Routing: which receiver gets an alert's work, on which channels, under which SLA.

(reading → signal → alert → **order** → notification.) Two layers, as in
Alertmanager: a YAML file validated at load (:class:`RoutingConfig`), and the
runtime tree (:class:`Router`) where each child inherits its parent's defaults
and the first matching child, depth first, wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from schemas import Alert, AutoDisposalPlan, Channel, DispatchOrder, SlaClass
from streams.core import sla
from streams.core.config import ConfigModel, load_yaml
from streams.core.ids import stable_id

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "routes.yaml"

Role = Literal[
    "party_concerned",
    "grid_worker",
    "property_management",
    "enterprise",
    "law_enforcement",
    "community",
    "town_street",
    "department",
]


class Receiver(ConfigModel):
    name: str = Field(pattern=r"^[a-z0-9_]+$", max_length=64)
    role: Role
    phone: str = Field(pattern=r"^\+?[0-9]{5,20}$")


class RouteSpec(ConfigModel):
    """One node of the route tree as written; unset fields inherit from the parent."""

    match: dict[str, str] = Field(default_factory=dict)
    name: str | None = None
    receiver: str | None = None
    channels: list[Channel] | None = Field(default=None, max_length=len(Channel))

    @field_validator("channels")
    @classmethod
    def _distinct(cls, v: list[Channel] | None) -> list[Channel] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("channels must be distinct")
        return v

    sla_class: SlaClass | None = None
    escalate_to: str | None = None
    #: Receiver (role ``party_concerned``) reminded and called when the alert is auto-disposable.
    party_concerned: str | None = None
    routes: list[RouteSpec] = Field(default_factory=list)


class AutoDisposalConfig(ConfigModel):
    """When the machine re-checks an auto-disposable order, and what counts as recovered."""

    recheck_after_s: dict[SlaClass, float] = Field(
        default_factory=lambda: {SlaClass.EMERGENCY: 120.0, SlaClass.NON_EMERGENCY: 3600.0}
    )
    healthy_readings: int = Field(default=3, ge=1, le=1000)

    @model_validator(mode="after")
    def _before_first_deadline(self) -> AutoDisposalConfig:
        for cls in SlaClass:
            if cls not in self.recheck_after_s:
                raise ValueError(f"recheck_after_s: missing {cls.value!r}")
            after = self.recheck_after_s[cls]
            first = min(sla.STAGE_LIMITS[cls].values())
            if not 0 < after < first.total_seconds():
                raise ValueError(
                    f"recheck_after_s.{cls.value}: {after:g} s must be > 0 and before the "
                    f"first {cls.value} deadline ({first.total_seconds():g} s), so an "
                    "escalated order still has time left on its SLA clock"
                )
        return self


class RoutingConfig(ConfigModel):
    version: Literal[1]
    receivers: list[Receiver] = Field(min_length=1)
    route: RouteSpec
    auto_disposal: AutoDisposalConfig = Field(default_factory=AutoDisposalConfig)

    @model_validator(mode="after")
    def _valid_tree(self) -> RoutingConfig:
        names = [r.name for r in self.receivers]
        if len(set(names)) != len(names):
            raise ValueError("receiver names must be unique")
        root = self.route
        for field in ("receiver", "channels", "sla_class", "escalate_to"):
            if getattr(root, field) is None:
                raise ValueError(f"the root route must set {field!r} (children inherit it)")
        if root.match:
            raise ValueError("the root route matches everything: remove its 'match'")

        roles = {r.name: r.role for r in self.receivers}

        def walk(node: RouteSpec, path: str, siblings_before: list[dict[str, str]]) -> None:
            for field in ("receiver", "escalate_to", "party_concerned"):
                value = getattr(node, field)
                if value is not None and value not in names:
                    raise ValueError(f"route {path}: unknown {field} {value!r}")
            if node.party_concerned is not None and roles[node.party_concerned] != (
                "party_concerned"
            ):
                raise ValueError(
                    f"route {path}: party_concerned {node.party_concerned!r} has role "
                    f"{roles[node.party_concerned]!r}, not 'party_concerned'"
                )
            for earlier in siblings_before:
                if earlier.items() <= node.match.items():
                    raise ValueError(
                        f"route {path} is unreachable: an earlier sibling matching "
                        f"{earlier} catches everything it matches"
                    )
            before: list[dict[str, str]] = []
            for i, child in enumerate(node.routes):
                walk(child, f"{path}.routes[{i}]", before)
                before.append(child.match)

        walk(root, "route", [])
        return self


@dataclass(frozen=True)
class Decision:
    """The resolved route for one alert."""

    route: str
    receiver: Receiver
    channels: tuple[Channel, ...]
    sla_class: SlaClass
    escalate_to: Receiver
    party_concerned: Receiver | None = None


class Router:
    """Runtime route tree.

    >>> cfg = RoutingConfig.model_validate({
    ...     "version": 1,
    ...     "receivers": [{"name": "grid", "role": "grid_worker", "phone": "+8613800000001"},
    ...                   {"name": "town", "role": "town_street", "phone": "+8613800000002"}],
    ...     "route": {"receiver": "town", "channels": ["sms"], "sla_class": "non_emergency",
    ...               "escalate_to": "town",
    ...               "routes": [{"match": {"emergency": "true"}, "name": "urgent",
    ...                           "receiver": "grid", "sla_class": "emergency"}]}})
    >>> d = Router(cfg).resolve({"emergency": "true", "module": "gas_safety"})
    >>> (d.route, d.receiver.name, d.sla_class.value, [c.value for c in d.channels])
    ('urgent', 'grid', 'emergency', ['sms'])
    """

    def __init__(self, config: RoutingConfig) -> None:
        self._config = config
        self._receivers = {r.name: r for r in config.receivers}

    def resolve(self, labels: dict[str, str]) -> Decision:
        node = self._config.route
        name = node.name or "root"
        fields = ("receiver", "channels", "sla_class", "escalate_to", "party_concerned")
        eff = {f: getattr(node, f) for f in fields}
        descended = True
        while descended:
            descended = False
            for child in node.routes:
                if all(labels.get(k) == v for k, v in child.match.items()):
                    node = child
                    name = (
                        child.name
                        or f"{name}/{','.join(f'{k}={v}' for k, v in child.match.items())}"
                    )
                    for f in eff:
                        if getattr(child, f) is not None:
                            eff[f] = getattr(child, f)
                    descended = True
                    break
        return Decision(
            route=name,
            receiver=self._receivers[eff["receiver"]],
            channels=tuple(eff["channels"]),
            sla_class=eff["sla_class"],
            escalate_to=self._receivers[eff["escalate_to"]],
            party_concerned=(
                self._receivers[eff["party_concerned"]] if eff["party_concerned"] else None
            ),
        )

    def receiver(self, name: str) -> Receiver:
        return self._receivers[name]

    def dispatch(self, alert: Alert, now: datetime) -> DispatchOrder:
        """The one dispatch order for ``alert``; its id depends only on the alert id.

        An auto-disposable alert with known source sensors, on a route that names
        a party concerned, gets an auto-disposal plan: machine first.
        """
        d = self.resolve(alert.labels)
        auto = None
        if alert.auto_disposable and alert.source_keys and d.party_concerned is not None:
            cfg = self._config.auto_disposal
            auto = AutoDisposalPlan(
                party_concerned=d.party_concerned.name,
                sensor_ids=sorted(set(alert.source_keys))[:16],
                risk_point=alert.risk_points[0],
                healthy_readings=cfg.healthy_readings,
                recheck_at=now + timedelta(seconds=cfg.recheck_after_s[d.sla_class]),
                place_id=alert.scope,
                since=alert.event_time,
            )
        return DispatchOrder(
            order_id=stable_id("order", alert.alert_id),
            alert_id=alert.alert_id,
            route=_route_label(d.route),
            receiver=d.receiver.name,
            assignee_role=d.receiver.role,
            channels=list(d.channels),
            sla_class=d.sla_class,
            deadlines=sla.deadlines(d.sla_class, now),
            summary=alert.summary,
            escalate_to=d.escalate_to.name,
            auto_disposal=auto,
            event_time=now,
        )


def _route_label(name: str) -> str:
    """Route names become a bounded, schema-safe token."""
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "_" for c in name.lower())
    return cleaned[:64] or "root"


def load_routing(path: Path | str = DEFAULT_PATH) -> RoutingConfig:
    """Load and validate a routing file (raises ``ConfigError`` naming file and field)."""
    return load_yaml(path, RoutingConfig)
