"""The metrics (runtime/metrics.py) on an injected CollectorRegistry, broker-free.

What SREs' dashboards and alert rules rely on: the metric names and label sets,
labels that stay bounded, two workers (or tests) in one process not colliding,
and scrape-time gauges that never fail a scrape.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest

from streams.runtime.metrics import Metrics

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

#: what dashboards and docs/operations.md name: metric → its labels
EXPECTED = {
    "yujing_events_in": ["topic"],
    "yujing_events_out": ["topic"],
    "yujing_batch_readings": [],
    "yujing_inputs_repeated": ["stage"],
    "yujing_dead_letters": ["reason", "topic"],
    "yujing_stage_seconds": ["stage"],
    "yujing_signals": ["module", "risk_point"],
    "yujing_notifications": ["channel", "outcome"],
    "yujing_orders": ["mode", "department"],
    "yujing_order_transitions": ["state"],
    "yujing_sla_breaches": ["sla_class", "stage", "department"],
    "yujing_sla_ticks_waiting": ["topic"],
    "yujing_auto_disposal": ["outcome"],
    "yujing_auto_disposal_ratio": [],
    "yujing_auto_resolved_per_day": [],
    "yujing_detector_seconds": ["kind"],
    "yujing_alerts": ["kind", "level"],
    "yujing_offset_reseeks": ["topic", "partition"],
    "yujing_alerts_inhibited": [],
}


def test_names_and_labels_are_the_documented_ones() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    found = {m.name: m for m in registry.collect()}
    assert set(found) == set(EXPECTED)
    m = Metrics(CollectorRegistry())
    for name, labels in EXPECTED.items():
        attr = next(
            v for v in vars(m).values() if getattr(v, "_name", None) in (name, name + "_total")
        )
        assert list(attr._labelnames) == labels, name


def test_two_registries_do_not_collide() -> None:
    a, b = CollectorRegistry(), CollectorRegistry()
    ma, mb = Metrics(a), Metrics(b)  # a second worker in the same process: no duplicate error
    ma.events_in.labels("yujing.readings.v1").inc(3)
    mb.events_in.labels("yujing.readings.v1").inc()
    ma.collect_from("yujing_open_orders", "open", ["state"], lambda: [(("signed",), 2.0)])
    mb.collect_from("yujing_open_orders", "open", ["state"], lambda: [(("signed",), 5.0)])
    labels = {"topic": "yujing.readings.v1"}
    assert a.get_sample_value("yujing_events_in_total", labels) == 3
    assert b.get_sample_value("yujing_events_in_total", labels) == 1
    assert a.get_sample_value("yujing_open_orders", {"state": "signed"}) == 2
    assert b.get_sample_value("yujing_open_orders", {"state": "signed"}) == 5


def test_a_department_label_is_bounded_to_the_district_model() -> None:
    m = Metrics(CollectorRegistry())
    m.departments = frozenset({"gas", "fire"})
    assert [m.department(d) for d in ("gas", None, "x" * 100)] == ["gas", "none", "other"]


def test_a_failing_scrape_time_source_leaves_its_gauge_empty_and_the_scrape_whole() -> None:
    registry = CollectorRegistry()
    m = Metrics(registry)
    m.events_in.labels("yujing.readings.v1").inc()

    def not_ready() -> list[tuple[tuple[str, ...], float]]:
        raise RuntimeError("table not recovered")

    m.watch_open_orders(lambda: {"signed": 4})
    m.collect_from("yujing_consumer_lag_messages", "lag", ["topic", "partition"], not_ready)
    text = generate_latest(registry).decode()
    assert 'yujing_open_orders{state="signed"} 4.0' in text
    assert "# TYPE yujing_consumer_lag_messages gauge" in text
    assert "yujing_consumer_lag_messages{" not in text
    assert 'yujing_events_in_total{topic="yujing.readings.v1"} 1.0' in text


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3 * 24 * 60)), min_size=1, max_size=60))
def test_the_auto_disposal_ratio_and_the_last_day_count(decisions: list[tuple[bool, int]]) -> None:
    registry = CollectorRegistry()
    m = Metrics(registry)
    decisions.sort(key=lambda d: d[1])  # the pipeline clock moves forward
    for auto, minute in decisions:
        m.order_decided(auto, T0 + timedelta(minutes=minute))
    autos = [minute for auto, minute in decisions if auto]
    ratio = registry.get_sample_value("yujing_auto_disposal_ratio")
    assert ratio == len(autos) / len(decisions)
    now = decisions[-1][1]
    last_day = [t for t in autos if t >= now - 24 * 60]
    assert registry.get_sample_value("yujing_auto_resolved_per_day") == len(last_day)
