"""The pipeline facade: one object that owns the Faust app, its topics and the core.

Wires every hop of the flow (reading → signal → alert → order →
notification) onto real Kafka topics; the agents themselves live in
:mod:`streams.runtime.agents`, one verb each. Web server: localhost by default,
``/metrics`` and ``/ready`` only (Faust's table, router, graph and stats
views are off).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry

from schemas.registry import TOPICS, TopicSpec
from streams.core.alerts.single import SingleRiskRule
from streams.core.orders.routing import Router, load_routing
from streams.core.shared.catalogue import Catalogue, load_catalogue
from streams.core.shared.clock import make_clock, wall_now
from streams.core.shared.directory import Directory
from streams.core.shared.district import DistrictModel, load_district
from streams.core.shared.regions import RegionIndex
from streams.core.signals.detect import Detection
from streams.runtime.consumer import use_strict_offsets
from streams.runtime.metrics import Metrics
from streams.runtime.provision import SHORT_RETENTION
from streams.runtime.settings import Settings
from streams.runtime.wiring import Wiring

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
utc_now = wall_now


@dataclass
class Pipeline:
    """Everything an agent needs: settings, app, topics, metrics, core objects, clock."""

    settings: Settings
    app: faust.App
    registry: CollectorRegistry
    metrics: Metrics
    catalogue: Catalogue
    router: Router
    #: The district model, its location hierarchy and its directory of parties.
    regions: RegionIndex
    clock: Clock = utc_now
    topics: dict[str, faust.TopicT] = field(default_factory=dict)
    wiring: Wiring = field(init=False)

    def __post_init__(self) -> None:
        self.wiring = Wiring(self)

    def topic(self, spec: TopicSpec) -> faust.TopicT:
        return self.topics[spec.name]

    def table(self, name: str, **kwargs: Any) -> faust.types.TableT[Any, Any]:
        """A changelog-backed table with JSON keys and values (never pickle)."""
        return self.app.Table(
            name,
            default=None,
            partitions=self.settings.partitions,
            schema=faust.Schema(key_serializer="json", value_serializer="json"),
            **kwargs,
        )

    @property
    def district(self) -> DistrictModel:
        return self.regions.model

    @property
    def directory(self) -> Directory:
        directory = self.router.directory
        assert directory is not None
        return directory

    @property
    def detection(self) -> Detection:
        return Detection(
            self.catalogue, seed=self.settings.seed, observe=self.metrics.observe_detector
        )

    @property
    def single_risk_rule(self) -> SingleRiskRule:
        return SingleRiskRule(self.catalogue)


def create_pipeline(
    settings: Settings | None = None,
    registry: CollectorRegistry | None = None,
    clock: Clock | None = None,
) -> Pipeline:
    """Build the app, declare every registry topic, register the agents.

    The clock is the injected one, else the one the settings describe
    (``YUJING_CLOCK_*``: wall time, or simulated time for tests and replays).
    """
    settings = settings or Settings.from_env()
    if clock is None:
        clock = make_clock(settings.clock_epoch, settings.clock_speed, settings.clock_anchor)
    registry = registry if registry is not None else CollectorRegistry()
    catalogue = load_catalogue(settings.catalogue)
    regions = RegionIndex(load_district(settings.district, catalogue))
    router = Router(load_routing(settings.routes), Directory(regions))
    app = faust.App(
        settings.faust_id,  # the prefix + app id: consumer group and changelog names
        broker=[f"kafka://{b.strip()}" for b in settings.kafka_bootstrap.split(",")],
        store="memory://",
        datadir=str(settings.data_path),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 4),
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_tables_enabled=False,
        web_router_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
    )
    metrics = Metrics(registry)
    metrics.departments = frozenset(d.id for d in regions.model.departments)
    pipe = Pipeline(
        settings=settings,
        app=app,
        registry=registry,
        metrics=metrics,
        catalogue=catalogue,
        router=router,
        regions=regions,
        clock=clock,
    )
    names = {settings.topic(n): n for n in TOPICS}
    # never commit, nor skip, a record no agent has processed; re-read a stuck partition
    use_strict_offsets(
        app,
        on_reseek=lambda tp, _offset: pipe.metrics.offset_reseeks.labels(
            names.get(tp.topic, tp.topic), str(tp.partition)
        ).inc(),
        stall_after_s=settings.stall_after_s,
        lose_handover=(
            settings.topic(settings.failpoint.removeprefix("lose_handover:"))
            if settings.failpoint.startswith("lose_handover:")
            else None
        ),
    )
    for name in TOPICS:
        pipe.topics[name] = app.topic(
            settings.topic(name),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.partitions,
            retention=SHORT_RETENTION.get(name),
        )
    setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix="faust")
    pipe.metrics.collect_from(
        "yujing_consumer_lag_messages",
        "Messages on a source partition assigned to this worker not yet processed and "
        "committed: the consumer's highwater minus its committed offset.",
        ["topic", "partition"],
        functools.partial(_consumer_lag, app, names),
    )
    pipe.metrics.collect_from(
        "yujing_committed_offset",
        "The offset this worker last committed on an assigned source partition (the next "
        "record to process there). Unchanged while lag > 0 means the partition is stuck.",
        ["topic", "partition"],
        functools.partial(_committed_offsets, app, names),
    )
    pipe.metrics.collect_from(
        "yujing_offset_stalled_seconds",
        "Seconds a source partition's committed offset has gone without anything processing "
        "or buffering its record while records wait behind it (the worker re-reads it after "
        "YUJING_STALL_AFTER_S).",
        ["topic", "partition"],
        functools.partial(_stalled_seconds, app, names),
    )

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        assigned = len(app.consumer.assignment()) if app.consumer else 0
        recovered = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
        ok = assigned > 0 and recovered and not app.rebalancing
        return web.json(
            {"ready": ok, "assigned_partitions": assigned, "recovered": recovered},
            status=200 if ok else 503,
        )

    from streams.runtime.agents import register_all

    register_all(pipe)
    pipe.wiring.build()
    return pipe


def _committed_offsets(
    app: faust.App, names: dict[str, str]
) -> Iterator[tuple[tuple[str, str], float]]:
    consumer = app._consumer  # never create one from a scrape
    if consumer is None:
        return
    committed = consumer._committed_offset  # type: ignore[attr-defined]
    for tp in sorted(consumer.assignment()):
        name = names.get(tp.topic)
        done = committed.get(tp)
        if name is not None and done is not None:
            yield (name, str(tp.partition)), float(done)


def _stalled_seconds(
    app: faust.App, names: dict[str, str]
) -> Iterator[tuple[tuple[str, str], float]]:
    consumer = app._consumer
    if consumer is None or not hasattr(consumer, "stalled_seconds"):
        return
    for tp, seconds in sorted(consumer.stalled_seconds(time.monotonic()).items()):
        name = names.get(tp.topic)
        if name is not None:
            yield (name, str(tp.partition)), seconds


def _consumer_lag(app: faust.App, names: dict[str, str]) -> Iterator[tuple[tuple[str, str], float]]:
    """(registry topic, partition) → highwater - committed offset, per assigned partition.

    Partitions not yet fetched from (no highwater) or never committed are left out
    rather than guessed. Changelog partitions are not source topics: left out too.
    """
    consumer = app._consumer  # never create one from a scrape
    if consumer is None:
        return
    committed = consumer._committed_offset  # type: ignore[attr-defined]
    for tp in sorted(consumer.assignment()):
        name = names.get(tp.topic)
        if name is None:
            continue
        highwater = consumer.highwater(tp)
        done = committed.get(tp)
        if highwater is None or done is None:
            continue
        yield (name, str(tp.partition)), float(max(0, highwater - done))
