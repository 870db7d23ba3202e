"""The runtime context: the narrow set of things an agent may use.

Where this sits: handed to every agent's ``build`` (:mod:`streams.runtime.agent`)
when a worker starts, for every hop of the flow (reading → signal → alert →
order → notification). It replaces a service locator: an agent sees the
settings, the clock, the metrics, the loaded configuration, its tables (whose
writes are staged until the next checkpoint, :mod:`streams.runtime.checkpoint`),
a way to publish and wait, objects shared between agents by name, and hooks
(partitions revoked, shutdown, live state to keep, the partitions it is active
for) — never the Faust app itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import faust
from faust.types import TP

from schemas import Event
from schemas.registry import TopicSpec
from streams.core.alerts.single import SingleRiskRule
from streams.core.orders.routing import Router, load_routing
from streams.core.shared.catalogue import Catalogue, load_catalogue
from streams.core.shared.directory import Directory
from streams.core.shared.district_gen import load_district
from streams.core.shared.regions import RegionIndex
from streams.core.signals import baseline
from streams.core.signals.detect import Detection
from streams.runtime.metrics import Metrics
from streams.runtime.settings import Settings
from streams.runtime.staged import StagedTable, Store

T = TypeVar("T")
Clock = Callable[[], datetime]
Table = StagedTable  # a Faust table with JSON keys and values, its writes staged


@dataclass
class Config:
    """The configuration files the settings name, loaded once per worker and validated."""

    settings: Settings

    @functools.cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.settings.catalogue)

    @functools.cached_property
    def regions(self) -> RegionIndex:
        """The district model, its location hierarchy and its directory of parties."""
        return RegionIndex(load_district(self.settings.district, self.catalogue))

    @functools.cached_property
    def router(self) -> Router:
        return Router(load_routing(self.settings.routes), Directory(self.regions))

    @functools.cached_property
    def single_risk_rule(self) -> SingleRiskRule:
        return SingleRiskRule(self.catalogue)

    @functools.cached_property
    def baselines(self) -> baseline.Baselines:
        """Detector state learnt from history (``YUJING_BASELINES``), for keys held cold."""
        return baseline.load(self.settings.baselines)

    def detection(self, observe: Callable[[str, float], None] | None = None) -> Detection:
        return Detection(self.catalogue, seed=self.settings.seed, observe=observe)


@dataclass
class Context:
    """What agents get: settings, clock, metrics, configuration, tables, publishing, hooks."""

    settings: Settings
    clock: Clock
    metrics: Metrics
    config: Config
    _app: faust.App = field(repr=False)
    _send: Callable[[Sequence[Event]], Awaitable[None]] = field(repr=False)
    #: the checkpoint's: write a table, or live state, at every checkpoint
    _keep: Callable[[StagedTable], None] = field(repr=False)
    _keep_live: Callable[[Store], None] = field(repr=False)
    _tables: dict[str, Table] = field(default_factory=dict, repr=False)
    _shared: dict[str, object] = field(default_factory=dict, repr=False)

    def table(self, name: str, staged: bool = False) -> Table:
        """The changelog-backed table ``name`` (JSON keys and values, never pickle).

        ``staged`` (for an agent that leaves outputs in flight): what is written to it
        reaches the changelog at the next checkpoint; else at once."""
        if name not in self._tables:
            table = self._app.Table(
                name,
                default=None,
                partitions=self.settings.partitions,
                schema=faust.Schema(key_serializer="json", value_serializer="json"),
            )
            staging = self._tables[name] = StagedTable(table, write_through=not staged)
            self._keep(staging)
        return self._tables[name]

    async def send(self, outputs: Sequence[Event]) -> None:
        """Publish ``outputs`` to their topics and wait until the broker has them all."""
        await self._send(outputs)

    def shared(self, name: str, make: Callable[[], T]) -> T:
        """One object per worker under ``name``, made on first use, for agents that share it."""
        if name not in self._shared:
            self._shared[name] = make()
        return cast(T, self._shared[name])

    def on_revoke(self, callback: Callable[[], object]) -> None:
        """Call (and await, if it is a coroutine) ``callback`` whenever this worker's
        partitions are revoked (a rebalance)."""

        async def revoked(*_: Any, **__: Any) -> None:
            result = callback()
            if inspect.isawaitable(result):
                await result

        self._app.on_partitions_revoked.connect(revoked)

    def keep(self, store: Store) -> None:
        """Write live state ``store`` (into its tables) at every checkpoint, and make it
        forget when partitions move."""
        self._keep_live(store)

    def on_shutdown(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Await ``callback`` before the worker shuts down (close sessions, say)."""

        async def stopping(*_: Any, **__: Any) -> None:
            await callback()

        self._app.on_before_shutdown.connect(stopping)

    def positions(self, topic: str, partition: int) -> tuple[int | None, int | None]:
        """The consumer's highwater (from its latest fetch) and committed offset for the
        physical ``topic``'s ``partition``, each None while it cannot say."""
        consumer = self._app._consumer  # never create one from here
        if consumer is None:
            return None, None
        tp = TP(topic, partition)
        committed = consumer._committed_offset.get(tp)  # type: ignore[attr-defined]
        return consumer.highwater(tp), committed

    def active_partitions(self, spec: TopicSpec) -> list[int]:
        """The partitions of ``spec``'s topic this worker is active for (not standby)."""
        topic = self.settings.topic(spec.name)
        actives = self._app.assignor.assigned_actives()
        return sorted(tp.partition for tp in actives if tp.topic == topic)
