"""Prometheus metrics of the pipeline, registered on an injected registry.

Beside every hop of the flow (reading → signal → alert → order →
notification): events in and out per topic, dead letters by reason, stage
latency, per-detector latency, signals, alerts by level, open orders by
state, SLA breaches, notifications, auto-disposal, and consumer lag. Label
values are bounded: registry topic names, partitions, reason enums, stages,
detector kinds, catalogue modules and risk points, lifecycle states, and the
district model's departments (anything else counts as ``other``).

Gauges that describe state held elsewhere (the orders table, the consumer's
offsets) are read at scrape time through :meth:`Metrics.collect_from`, so they
are never stale and never drift from the truth they report.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from schemas import Alert, Event, OrderAction, OrderState, RiskSignal
from schemas.registry import DISPATCH_UPDATES, TopicSpec
from streams.core.orders.tracker import Plan
from streams.runtime.histogram import Child, CountingHistogram

log = logging.getLogger(__name__)

#: label values → value, for one gauge read at scrape time
Samples = Iterable[tuple[tuple[str, ...], float]]


class Metrics:
    """All of yujing's own metrics; Faust's sensor shares the same registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.events_in = Counter(
            "yujing_events_in_total", "Events read from a topic.", ["topic"], registry=registry
        )
        self.batch_readings = Counter(
            "yujing_batch_readings_total",
            "Readings read inside gateway batch records (yujing.reading-batches.v1), bad "
            "ones included; yujing_events_in_total counts the records.",
            registry=registry,
        )
        self.repeats = Counter(
            "yujing_inputs_repeated_total",
            "Inputs taken once already (the same id and content again, as an at-least-once "
            "producer may send them): skipped, by stage.",
            ["stage"],
            registry=registry,
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
        # per event: counted in plain numbers, exposed at scrape (streams.runtime.histogram)
        self.stage_seconds = CountingHistogram(
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
        self.orders = Counter(
            "yujing_orders_total",
            "Orders the SLA agent started tracking, by mode (auto: machine first; person) and "
            "the department that answers for the order's module.",
            ["mode", "department"],
            registry=registry,
        )
        self.order_transitions = Counter(
            "yujing_order_transitions_total",
            "Lifecycle state changes of orders, by new state.",
            ["state"],
            registry=registry,
        )
        self.sla_breaches = Counter(
            "yujing_sla_breaches_total",
            "SLA breaches published, by class, stage and the department that answers for the "
            "order's module: which department misses its deadlines.",
            ["sla_class", "stage", "department"],
            registry=registry,
        )
        self.ticks_waiting = Counter(
            "yujing_sla_ticks_waiting_total",
            "Clock ticks that judged no deadline because records written before them to a "
            "co-partitioned input (updates, re-check verdicts) were not handled yet, by that "
            "input's topic: the next tick judges. Rising steadily means that input lags.",
            ["topic"],
            registry=registry,
        )
        self.auto_disposal = Counter(
            "yujing_auto_disposal_total",
            "Auto-disposable orders leaving the machine's hands, by outcome: auto_resolved or "
            "escalated at the re-check, help_requested by the party concerned before it.",
            ["outcome"],
            registry=registry,
        )
        self.auto_disposal_ratio = Gauge(
            "yujing_auto_disposal_ratio",
            "Share of orders decided so far (this worker) that the machine closed: "
            "auto-resolved / (auto-resolved + escalated + closed by a person).",
            registry=registry,
        )
        self.auto_resolved_per_day = Gauge(
            "yujing_auto_resolved_per_day",
            "Orders auto-resolved by this worker in the last 24 hours of (pipeline) clock time.",
            registry=registry,
        )
        self.detector_seconds = CountingHistogram(  # per detector per reading, as above
            "yujing_detector_seconds",
            "Time one detector takes on one event (restore state, score, trigger, learn), "
            "by detector kind.",
            ["kind"],
            buckets=(1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1),
            registry=registry,
        )
        self.alerts = Counter(
            "yujing_alerts_total",
            "Alerts published, by kind (single, compound, systemic) and level.",
            ["kind", "level"],
            registry=registry,
        )
        self.offset_reseeks = Counter(
            "yujing_offset_reseeks_total",
            "Times a stuck source partition was read again from its committed offset "
            "(its next record was neither processed, nor being processed, nor buffered).",
            ["topic", "partition"],
            registry=registry,
        )
        self._detector_children: dict[str, Child] = {}
        self.inhibited = Counter(
            "yujing_alerts_inhibited_total",
            "Alert versions not paged because a systemic alert covers them.",
            registry=registry,
        )
        self._decided = {"auto_resolved": 0, "other": 0}
        #: departments a label may name (the district model's): a bounded label
        self.departments: frozenset[str] = frozenset()
        self._auto_resolved_at: deque[datetime] = deque()

    def order_decided(self, auto_resolved: bool, now: datetime) -> None:
        """An order ended in the machine's hands or a person's: update the ratios."""
        self._decided["auto_resolved" if auto_resolved else "other"] += 1
        total = sum(self._decided.values())
        self.auto_disposal_ratio.set(self._decided["auto_resolved"] / total)
        if auto_resolved:
            self._auto_resolved_at.append(now)
        while self._auto_resolved_at and self._auto_resolved_at[0] < now - timedelta(days=1):
            self._auto_resolved_at.popleft()
        self.auto_resolved_per_day.set(len(self._auto_resolved_at))

    def department(self, value: str | None) -> str:
        """A department as a label value: a known one, ``none`` or ``other`` (bounded).

        >>> m = Metrics(CollectorRegistry()); m.departments = frozenset({"gas"})
        >>> m.department("gas"), m.department(None), m.department("made-up")
        ('gas', 'none', 'other')
        """
        if value is None:
            return "none"
        return value if value in self.departments else "other"

    def watch_open_orders(self, counts: Callable[[], dict[str, int]]) -> None:
        """``yujing_open_orders``: orders not finished, by state, read at each scrape."""
        self.collect_from(
            "yujing_open_orders",
            "Orders not yet closed or auto-resolved, by lifecycle state, on this worker's "
            "partitions.",
            ["state"],
            lambda: [((state,), float(n)) for state, n in counts().items()],
        )

    def observe_orders(self, plan: Plan) -> None:
        """What the order tracker did, once its outputs are on the broker."""
        if plan.opened is not None:
            mode = "auto" if plan.opened.auto_disposal else "person"
            self.orders.labels(mode, self.department(plan.opened.department)).inc()
        for step in plan.steps:
            for s in step.statuses:
                self.order_transitions.labels(s.state.value).inc()
                if s.state is OrderState.AUTO_RESOLVED:
                    self.auto_disposal.labels("auto_resolved").inc()
                    self.order_decided(True, s.event_time)
                elif s.cause == "recheck":
                    self.auto_disposal.labels("escalated").inc()
                elif s.cause == OrderAction.HELP_REQUESTED.value:
                    self.auto_disposal.labels("help_requested").inc()
                elif s.state is OrderState.CLOSED:
                    self.order_decided(False, s.event_time)
        for breach, record in plan.breaches:
            self.sla_breaches.labels(
                record.sla_class.value, breach.stage, self.department(breach.department)
            ).inc()
        for _, reason, _ in plan.refused:  # parked updates dead-lettered by this plan
            self.dead_letters.labels(reason.value, DISPATCH_UPDATES.name).inc()

    def observe_signals(self, signals: Iterable[RiskSignal]) -> None:
        for s in signals:
            self.signals.labels(s.module, s.risk_point).inc()

    def observe_detector(self, kind: str, seconds: float) -> None:
        """One detector's run on one event (the core's timing hook)."""
        child = self._detector_children.get(kind)
        if child is None:
            child = self._detector_children[kind] = self.detector_seconds.labels(kind)
        child.observe(seconds)

    def observe_out(self, spec: TopicSpec, event: Event) -> None:
        """An output the broker acknowledged: count it on its topic (and alerts by level)."""
        self.events_out.labels(spec.name).inc()
        if isinstance(event, Alert):
            self.alerts.labels(event.kind.value, event.level).inc()

    def collect_from(
        self, name: str, documentation: str, labels: list[str], samples: Callable[[], Samples]
    ) -> None:
        """A gauge ``name`` whose samples ``samples()`` returns at each scrape.

        A failing source yields no samples (and a log line), never a failed scrape.
        """
        self.registry.register(_ScrapeTimeGauge(name, documentation, labels, samples))


class _ScrapeTimeGauge(Collector):
    def __init__(
        self, name: str, documentation: str, labels: list[str], samples: Callable[[], Samples]
    ) -> None:
        self._name, self._doc, self._labels, self._samples = name, documentation, labels, samples

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [GaugeMetricFamily(self._name, self._doc, labels=self._labels)]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self._name, self._doc, labels=self._labels)
        try:
            for values, value in self._samples():
                family.add_metric(list(values), value)
        except Exception:  # a scrape must never fail because one source is not ready
            log.debug("metric %s: source not ready", self._name, exc_info=True)
            family = GaugeMetricFamily(self._name, self._doc, labels=self._labels)
        yield family
