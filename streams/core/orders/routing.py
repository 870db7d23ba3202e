"""Routing: which receiver gets an alert's work, on which channels, under which SLA.

(reading → signal → alert → **route** → order → notification.) The route tree
and the receiver resolution; the order itself is built from them in
:mod:`streams.core.orders.create`. Two layers, as in
Alertmanager: a YAML file validated at load (:class:`RoutingConfig`), and the
runtime tree (:class:`Router`) where each child inherits its parent's defaults
and the first matching child, depth first, wins.

A receiver is either a fixed line (``phone``) or a role looked up in the
district's directory (``directory: grid_worker``: the grid worker of the alert's
grid cell; ``site_party``: the site's owner or property manager; ``town_office``,
``community_office``: the duty office with jurisdiction; ``department``: the
department that answers for the alert's module; ``district_office``). When the
alert's scope has no party of that kind (a town-wide alert has no grid worker),
its ``fallback`` receiver is used instead. Routes may also match on the place's
jurisdiction: ``town``, ``community``, ``grid_cell``, ``industry``, ``site_kind``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from schemas import Alert, Channel, SlaClass
from streams.core.orders import sla
from streams.core.shared.config import ConfigModel, load_yaml
from streams.core.shared.directory import ALWAYS, ROLE_OF, Directory, Kind, Party

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "routes.yaml"

Role = Literal[
    "party_concerned",
    "grid_worker",
    "property_management",
    "enterprise",
    "law_enforcement",
    "community",
    "town_street",
    "department",
    "district",
]


class Receiver(ConfigModel):
    """A fixed line (``role`` and ``phone``) or a directory role (``directory``)."""

    name: str = Field(pattern=r"^[a-z0-9_]+$", max_length=64)
    role: Role | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{5,20}$", repr=False)
    directory: Kind | None = None
    #: Directory receivers: who gets it when the alert's scope has no party of that kind.
    fallback: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Receiver:
        if self.directory is None:
            if self.phone is None or self.role is None:
                raise ValueError("a fixed receiver needs 'role' and 'phone' (or give 'directory')")
            if self.fallback is not None:
                raise ValueError("'fallback' is for directory receivers")
            return self
        if self.phone is not None:
            raise ValueError("give either 'phone' or 'directory', not both")
        if self.role is not None and self.role != ROLE_OF[self.directory]:
            raise ValueError(
                f"role: a {self.directory} receiver has role {ROLE_OF[self.directory]!r}"
            )
        return self.model_copy(update={"role": ROLE_OF[self.directory]})

    @property
    def party(self) -> Party:
        """A fixed receiver as a party."""
        assert self.phone is not None and self.role is not None
        return Party(self.name, self.role, self.phone, self.name)


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
    #: or healthy this long (seconds) with at least one healthy reading: a device on a
    #: heartbeat of tens of minutes cannot send N readings before its re-check
    healthy_for_s: float | None = Field(default=None, gt=0, le=86400)

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
        by_name = {r.name: r for r in self.receivers}
        for i, r in enumerate(self.receivers):
            chain = [r.name]
            node = r
            while node.directory is not None and node.directory not in ALWAYS:
                if node.fallback is None:
                    raise ValueError(
                        f"receivers[{i}]({r.name}): a {node.directory} receiver needs a "
                        "fallback for alerts whose scope has none (end in a fixed line, "
                        "'department' or 'district_office')"
                    )
                if node.fallback not in by_name:
                    raise ValueError(
                        f"receivers[{i}]({r.name}): unknown fallback {node.fallback!r}"
                    )
                if node.fallback in chain:
                    raise ValueError(f"receivers[{i}]({r.name}): fallback loop {chain}")
                chain.append(node.fallback)
                node = by_name[node.fallback]
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

    def __init__(self, config: RoutingConfig, directory: Directory | None = None) -> None:
        self._config = config
        self._receivers = {r.name: r for r in config.receivers}
        self._directory = directory
        needs = sorted(r.name for r in config.receivers if r.directory is not None)
        if needs and directory is None:
            raise ValueError(
                f"the routes' receivers {needs} are looked up in the district directory, "
                "but the router was given none"
            )

    @property
    def directory(self) -> Directory | None:
        return self._directory

    @property
    def auto_disposal(self) -> AutoDisposalConfig:
        """When the machine re-checks an auto-disposable order (order creation reads it)."""
        return self._config.auto_disposal

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

    def receiver(self, name: str) -> Party:
        """The party a receiver name stands for: a fixed line, or one of the directory's
        (``grid.<cell>``, ``party.<site>``, ...). ``KeyError`` if there is none."""
        fixed = self._receivers.get(name)
        if fixed is not None and fixed.directory is None:
            return fixed.party
        found = self._directory.party(name) if self._directory is not None else None
        if found is None:
            raise KeyError(name)
        return found

    def party_for(self, receiver: Receiver, scope: str, module: str | None) -> Party:
        """Who ``receiver`` is for an alert on ``scope`` about ``module``: the fixed line,
        or the directory's party with jurisdiction, else its fallback's."""
        node = receiver
        while node.directory is not None:
            assert self._directory is not None
            found = self._directory.resolve(node.directory, scope, module)
            if found is not None:
                return found
            if node.fallback is None:  # only department / district_office: always found
                raise KeyError(f"{node.name}: no {node.directory} for {scope} / {module}")
            node = self._receivers[node.fallback]
        return node.party

    def labels_for(self, alert: Alert) -> dict[str, str]:
        """The alert's labels plus its place's jurisdiction (the alert's own labels win)."""
        if self._directory is None:
            return dict(alert.labels)
        where = self._directory.jurisdiction(alert.scope)
        dept = self._directory.department_of(alert.module)
        if dept:
            where["department"] = dept
        return {**where, **alert.labels}


def load_routing(path: Path | str = DEFAULT_PATH) -> RoutingConfig:
    """Load and validate a routing file (raises ``ConfigError`` naming file and field)."""
    return load_yaml(path, RoutingConfig)
