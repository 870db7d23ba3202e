"""Prometheus metrics of the pipeline, registered on an injected registry.

Beside every hop of the flow (reading → signal → alert → order →
notification): events in and out per topic, dead letters by reason, stage
latency. Label values are bounded: registry topic names, reason enums, stages.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram

from schemas import RiskSignal


class Metrics:
    """All of yujing's own metrics; Faust's sensor shares the same registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.events_in = Counter(
            "yujing_events_in_total", "Events read from a topic.", ["topic"], registry=registry
        )
        self.events_out = Counter(
            "yujing_events_out_total", "Events written to a topic.", ["topic"], registry=registry
        )
        self.dead_letters = Counter(
            "yujing_dead_letters_total",
            "Messages sent to the dead-letter topic, by reason and source topic.",
            ["reason", "topic"],
            registry=registry,
        )
        self.stage_seconds = Histogram(
            "yujing_stage_seconds",
            "Time to process one event in a stage, decode to delivered output.",
            ["stage"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
            registry=registry,
        )
        self.signals = Counter(
            "yujing_signals_total",
            "Single-risk signals raised, by module and risk point.",
            ["module", "risk_point"],
            registry=registry,
        )
        self.notifications = Counter(
            "yujing_notifications_total",
            "Notification delivery outcomes by channel.",
            ["channel", "outcome"],
            registry=registry,
        )

    def observe_signals(self, signals: Iterable[RiskSignal]) -> None:
        for s in signals:
            self.signals.labels(s.module, s.risk_point).inc()
