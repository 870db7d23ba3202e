"""The counting sensor publishes what Faust's Prometheus sensor publishes, per scrape."""

from __future__ import annotations

from typing import Any

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP
from prometheus_client import CollectorRegistry

from streams.runtime.sensor import CountingMonitor, _FlushOnCollect


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for metric in registry.collect():
        for s in metric.samples:
            if s.name.startswith("faust_") and not s.name.endswith("_created"):
                if "events_runtime" in s.name and not s.name.endswith("_count"):
                    continue  # observed durations differ; the count must not
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


class Named:
    """Stands in for a Faust stream or table: hashed by identity, as theirs are."""

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


def drive(monitor: Any) -> None:
    """One run of calls as Faust makes them: messages in and out, events, table operations."""
    a0, a1, b0 = (
        TP("yujing.readings.v1", 0),
        TP("yujing.readings.v1", 1),
        TP("yujing.signals.v1", 0),
    )
    detect = Named(shortlabel="Stream: detect", task_owner=Named())
    locate = Named(shortlabel="Stream: locate", task_owner=Named())
    table = Named(name="baselines")
    for i, (tp, stream) in enumerate([(a0, detect)] * 5 + [(a1, detect)] * 3 + [(b0, locate)] * 2):
        message = Named(time_in=None)
        monitor.on_message_in(tp, 100 + i, message)
        state = monitor.on_stream_event_in(tp, 100 + i, stream, None)
        monitor.on_table_get(table, "k")
        if i % 2:
            monitor.on_table_set(table, "k", 1)
        if i == 3:
            monitor.on_table_del(table, "k")
        if i < 8:  # two still in work
            monitor.on_stream_event_out(tp, 100 + i, stream, None, state)
            monitor.on_message_out(tp, 100 + i, message)


def test_a_scrape_sees_what_faust_s_sensor_shows() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    drive(PrometheusMonitor(metrics=FaustMetrics.create(theirs, "faust")))
    flusher = _FlushOnCollect()
    ours.register(flusher)
    flusher.monitor = CountingMonitor(metrics=FaustMetrics.create(ours, "faust"))
    drive(flusher.monitor)

    expected = samples(theirs)
    assert expected[("faust_messages_received_total", ())] == 10
    assert (
        expected[
            (
                "faust_table_operations_total",
                (("operation", "keys_retrieved"), ("table", "table.baselines")),
            )
        ]
        == 10
    )
    assert samples(ours) == expected  # flushed by the scrape itself, nothing else


def test_counts_are_added_once_across_scrapes() -> None:
    registry = CollectorRegistry()
    flusher = _FlushOnCollect()
    registry.register(flusher)
    monitor = flusher.monitor = CountingMonitor(metrics=FaustMetrics.create(registry, "faust"))
    drive(monitor)
    first = samples(registry)
    assert samples(registry) == first  # a second scrape adds nothing
    drive(monitor)
    again = samples(registry)
    assert again[("faust_messages_received_total", ())] == 20
    assert again[("faust_active_messages", ())] == 4
    assert monitor.messages_received_total == 20  # Faust's own totals follow too
    assert monitor.events_active == 4
    assert monitor.stream_inbound_time  # Faust's slow-processing check reads it
