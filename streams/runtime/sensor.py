"""Faust's own metrics (``faust_*``), counted in plain integers and published per scrape.

Where this sits: beside every hop of the flow (reading → signal → alert → order →
notification), in the Faust app's sensor slot. Faust calls its sensor for every
message in and out, every stream event in and out and every table read and write.
Its Prometheus sensor resolved a labelled child (``.labels(...)``) on every one of
those calls and kept the bookkeeping of Faust's ``/stats`` page, which this worker
does not serve: py-spy put that at 18 % of a single-reading worker's busy time.

:class:`CountingMonitor` keeps the same metrics, with the same names and labels,
but counts each call in a plain integer (per topic partition, stream or table) and
adds the counts to the Prometheus metrics when they are read: a collector
registered ahead of Faust's metrics in the same registry flushes them on every
scrape, so a scrape sees every message counted so far. The one histogram with an
observation per event (``faust_events_runtime_ms``) is still observed per event.
What Faust itself reads from its monitor (``stream_inbound_time``, for its
slow-processing warnings) is still kept. With ``YUJING_METRICS_TOKEN`` set the page
needs it as a bearer token (:mod:`streams.runtime.webauth`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, cast

from aiohttp.web import Response
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP, AppT, CollectionT, EventT, Message, StreamT
from faust.types.transports import ConsumerT
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from pydantic import SecretStr

from streams.runtime.webauth import guarded

_GET = PrometheusMonitor.KEYS_RETRIEVED
_SET = PrometheusMonitor.KEYS_UPDATED
_DEL = PrometheusMonitor.KEYS_DELETED


class CountingMonitor(PrometheusMonitor):
    """Faust's Prometheus sensor with per-call work cut to a counter increment."""

    def __init__(self, metrics: FaustMetrics, **kwargs: Any) -> None:
        super().__init__(metrics=metrics, **kwargs)
        self._in_by_tp: dict[TP, int] = {}
        self._last_offset: dict[TP, int] = {}
        self._out = 0
        self._events_by_stream: dict[StreamT, int] = {}
        self._events_out = 0
        self._table_ops: dict[tuple[CollectionT, str], int] = {}
        self._stream_labels: dict[StreamT, str] = {}
        self._runtime_ms = metrics.events_runtime_latency

    # -- per message and per event: a counter each ------------------------------------

    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        counts = self._in_by_tp
        counts[tp] = counts.get(tp, 0) + 1
        self._last_offset[tp] = offset

    def on_message_out(self, tp: TP, offset: int, message: Message) -> None:
        self._out += 1

    def on_stream_event_in(
        self, tp: TP, offset: int, stream: StreamT, event: EventT
    ) -> dict[Any, Any] | None:
        now = time.monotonic()
        self.stream_inbound_time[tp] = now  # Faust's slow-processing check reads it
        counts = self._events_by_stream
        counts[stream] = counts.get(stream, 0) + 1
        return cast(dict[Any, Any], now)  # the state handed back to on_stream_event_out

    def on_stream_event_out(
        self,
        tp: TP,
        offset: int,
        stream: StreamT,
        event: EventT,
        state: dict[Any, Any] | None = None,
    ) -> None:
        self._events_out += 1
        if state is not None:
            self._runtime_ms.observe((time.monotonic() - cast(float, state)) * 1000.0)

    def on_table_get(self, table: CollectionT, key: Any) -> None:
        self._count_table(table, _GET)

    def on_table_set(self, table: CollectionT, key: Any, value: Any) -> None:
        self._count_table(table, _SET)

    def on_table_del(self, table: CollectionT, key: Any) -> None:
        self._count_table(table, _DEL)

    def _count_table(self, table: CollectionT, operation: str) -> None:
        ops = self._table_ops
        key = (table, operation)
        ops[key] = ops.get(key, 0) + 1

    # -- published when read -----------------------------------------------------------

    def flush(self) -> None:
        """Add every count so far to the Prometheus metrics (and to Faust's own totals)."""
        m = self._metrics
        by_tp, self._in_by_tp = self._in_by_tp, {}
        offsets, self._last_offset = self._last_offset, {}
        out, self._out = self._out, 0
        by_stream, self._events_by_stream = self._events_by_stream, {}
        events_out, self._events_out = self._events_out, 0
        table_ops, self._table_ops = self._table_ops, {}

        received = sum(by_tp.values())
        if received or out:
            m.messages_received.inc(received)
            m.active_messages.inc(received - out)
            self.messages_received_total += received
            self.messages_active += received - out
        by_topic: dict[str, int] = {}
        for tp, n in by_tp.items():
            by_topic[tp.topic] = by_topic.get(tp.topic, 0) + n
            self.messages_received_by_topic[tp.topic] += n
        for topic, n in by_topic.items():
            m.messages_received_per_topics.labels(topic=topic).inc(n)
        for tp, offset in offsets.items():
            m.messages_received_per_topics_partition.labels(
                topic=tp.topic, partition=tp.partition
            ).set(offset)
            self.tp_read_offsets[tp] = offset

        events = sum(by_stream.values())
        if events or events_out:
            m.total_events.inc(events)
            m.total_active_events.inc(events - events_out)
            self.events_total += events
            self.events_active += events - events_out
        for stream, n in by_stream.items():
            m.total_events_per_stream.labels(stream=self._label_of(stream)).inc(n)
        for (table, operation), n in table_ops.items():
            m.table_operations.labels(table=f"table.{table.name}", operation=operation).inc(n)

    def _label_of(self, stream: StreamT) -> str:
        label = self._stream_labels.get(stream)
        if label is None:
            label = self._stream_labels[stream] = f"stream.{self._stream_label(stream)}.events"
        return label

    def on_rebalance_start(self, app: AppT) -> dict[Any, Any]:
        self.flush()  # before Faust clears the per-partition gauges
        return cast(dict[Any, Any], super().on_rebalance_start(app))

    def on_commit_completed(self, consumer: ConsumerT, state: Any) -> None:
        super().on_commit_completed(consumer, state)
        self.flush()  # so the counts never lag a scrape by more than a commit interval


class _FlushOnCollect(Collector):
    """Registered before Faust's metrics: a scrape flushes the counts before reading them
    (a registry collects in the order its collectors were registered)."""

    def __init__(self) -> None:
        self.monitor: CountingMonitor | None = None

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        if self.monitor is not None:
            self.monitor.flush()
        return []


def install_sensor(
    app: AppT,
    registry: CollectorRegistry,
    pattern: str = "/metrics",
    token: SecretStr | None = None,
) -> CountingMonitor:
    """Make ``app``'s monitor a :class:`CountingMonitor` on ``registry`` (``faust_*``)
    and serve the registry at ``pattern`` on the worker's web server (with ``token``,
    only to requests that carry it)."""
    flusher = _FlushOnCollect()
    registry.register(flusher)
    monitor = flusher.monitor = CountingMonitor(metrics=FaustMetrics.create(registry, "faust"))
    app.monitor = monitor

    @app.page(pattern)
    @guarded(token)
    async def metrics_page(self: Any, request: Any) -> Any:  # aiohttp's, as Faust's own
        return Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return monitor
