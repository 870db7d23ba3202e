"""The worker's composition root: the Faust app, its topics, the context and the agents.

Where this sits: under the whole flow (reading → signal → alert → order →
notification). :func:`create_pipeline` builds the Faust app with the consumer
that loses nothing (:mod:`streams.runtime.consumer`), declares every registry
topic once, hands each agent (:mod:`streams.runtime.agents`) the narrow runtime
context (:mod:`streams.runtime.context`), wires them so each event is decoded
once (:mod:`streams.runtime.wiring`), and adds the ticker, the consumer gauges
and the web pages (the operator console among them). Nothing imports this module
but the entry points: agents get the context, never the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import faust
from prometheus_client import CollectorRegistry

from schemas.registry import DISPATCH_ORDERS, SCOPED_SIGNALS, TICKS, TOPICS, TopicSpec
from streams.core.shared.clock import make_clock
from streams.core.shared.eventtime import TimeBounds
from streams.runtime import console, failpoints, lag, web
from streams.runtime.agent import Handler
from streams.runtime.agents import AGENTS
from streams.runtime.agents.assess_scopes import TABLE as SCOPE_WINDOWS
from streams.runtime.checkpoint import Checkpoint
from streams.runtime.commits import guard_commits
from streams.runtime.consumer import use_strict_offsets
from streams.runtime.context import Config, Context
from streams.runtime.hop import Hop
from streams.runtime.metrics import Metrics
from streams.runtime.provision import SHORT_RETENTION, replica_configs
from streams.runtime.publish import Publisher
from streams.runtime.restore import use_bulk_restore
from streams.runtime.sensor import install_sensor
from streams.runtime.settings import Settings
from streams.runtime.ticker import start_ticker
from streams.runtime.wiring import Wiring

Clock = Callable[[], datetime]


@dataclass
class Pipeline:
    """A built worker: what the entry points and tests look at."""

    settings: Settings
    app: faust.App
    registry: CollectorRegistry
    metrics: Metrics
    context: Context
    wiring: Wiring
    topics: dict[str, faust.TopicT]

    def topic(self, spec: TopicSpec) -> faust.TopicT:
        return self.topics[spec.name]


def create_pipeline(
    settings: Settings | None = None,
    registry: CollectorRegistry | None = None,
    clock: Clock | None = None,
) -> Pipeline:
    """Build the app, declare every registry topic, build and wire the agents.

    The clock is the injected one, else the one the settings describe
    (``YUJING_CLOCK_*``: wall time, or simulated time for tests and replays).
    """
    settings = settings or Settings.from_env()
    if clock is None:
        clock = make_clock(
            settings.clock_epoch, settings.clock_speed, settings.clock_anchor, settings.clock_until
        )
    registry = registry if registry is not None else CollectorRegistry()
    config = Config(settings)
    app = _faust_app(settings)
    metrics = Metrics(registry)
    metrics.departments = frozenset(d.id for d in config.regions.model.departments)
    names = {settings.topic(n): n for n in TOPICS}
    # never commit, nor skip, a record no agent has processed; re-read a stuck partition
    use_strict_offsets(
        app,
        on_reseek=lambda tp, _offset: metrics.offset_reseeks.labels(
            names.get(tp.topic, tp.topic), str(tp.partition)
        ).inc(),
        stall_after_s=settings.stall_after_s,
        lose_handover=failpoints.lost_handover_topic(settings),
    )
    use_bulk_restore(app)  # a table's changelog under recovery goes to the table in batches
    topics = {
        name: app.topic(
            settings.topic(name),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.partitions,
            retention=SHORT_RETENTION.get(name),
        )
        for name in TOPICS
    }
    # outputs left in flight; delivered, then state written, before every offset commit
    checkpoint = Checkpoint(Publisher(topics, metrics), failpoints.die_in_flight(settings))
    guard_commits(app, checkpoint.commit)

    async def revoked(*_: Any, **__: Any) -> None:
        await checkpoint.revoke(app.producer.flush)

    app.on_partitions_revoked.connect(revoked)
    context = Context(
        settings,
        clock,
        metrics,
        config,
        app,
        checkpoint.publisher.publish,
        checkpoint.keep,
        checkpoint.keep_live,
    )
    events_in = {name: metrics.events_in.labels(name) for name in TOPICS}

    def make_hop(stage: str, spec: TopicSpec, handler: Handler, in_flight: bool) -> Hop:
        max_payload = settings.max_message_bytes
        hop = Hop(stage, spec.name, handler, checkpoint, metrics, clock, max_payload)
        hop.in_flight = in_flight
        return hop

    # a simulated clock N times the wall's speed: two processes a wall second apart are N apart
    ahead = settings.max_clock_skew_s * max(1.0, settings.clock_speed)
    bounds = TimeBounds(ahead_s=ahead, horizon_s=settings.event_horizon_s)
    wiring = Wiring(
        app=app,
        topic_of=settings.topic,
        make_hop=make_hop,
        max_message_bytes=settings.max_message_bytes,
        max_batch_bytes=settings.max_batch_bytes,
        partitions=settings.partitions,
        on_event=lambda name: events_in[name].inc(),
        judge_time=lambda t: bounds.judge(t, clock()),
    )
    for agent in AGENTS:
        wiring.add(agent, agent.build(context))
    wiring.build()
    for table in app.tables.values():  # Faust creates the changelogs: as safe as the rest
        changelog = table.changelog_topic
        changelog.config = {**changelog.config, **replica_configs(settings.replication_factor)}

    start_ticker(app, topics[TICKS.name], settings.partitions, settings.tick_interval_s, clock)
    install_sensor(app, registry, token=settings.metrics_token)
    lag.watch_consumer(metrics, app, names)
    web.add_ready_page(app)
    web.add_map_pages(
        app,
        context.table(SCOPE_WINDOWS),
        config.regions,
        lambda: context.active_partitions(SCOPED_SIGNALS),
        token=settings.web_token,
    )
    web.add_order_pages(  # the order tracker's records (agent track_orders)
        app,
        context.table("orders"),
        lambda: context.active_partitions(DISPATCH_ORDERS),
        token=settings.web_token,
        clock=clock,  # the deadlines' clock: a console counts down on it
    )
    console.add_console_pages(app, config.regions, token=settings.web_token)
    return Pipeline(settings, app, registry, metrics, context, wiring, topics)


def _faust_app(settings: Settings) -> faust.App:
    """The Faust app: JSON bytes in and out, acks from every replica, the topics Faust
    creates with the replicas of the settings, web on localhost, the producer's linger
    and batch size from the settings, the broker's login and TLS from the settings."""
    options: dict[str, Any] = {
        "broker": [f"kafka://{b.strip()}" for b in settings.kafka_bootstrap.split(",")],
        "store": "memory://",
        "datadir": str(settings.data_path),
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "consumer_auto_offset_reset": "earliest",
        "key_serializer": "raw",
        "value_serializer": "raw",
        "producer_acks": -1,
        "producer_linger": settings.producer_linger_ms / 1000,
        "producer_max_batch_size": settings.producer_batch_bytes,
        "broker_session_timeout": settings.session_timeout_s,
        "broker_heartbeat_interval": min(3.0, settings.session_timeout_s / 4),
        "web_bind": settings.web_host,
        "web_host": settings.web_host,
        "web_port": settings.web_port,
        "web_tables_enabled": False,
        "web_router_enabled": False,
        "web_graph_enabled": False,
        "web_stats_enabled": False,
    }
    credentials = settings.kafka_security.faust_credentials()
    if credentials is not None:  # SASL and/or TLS, as every other client of the settings
        options["broker_credentials"] = credentials
    # the prefix + app id: consumer group and changelog names
    return faust.App(settings.faust_id, **options)
