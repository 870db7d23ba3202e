"""The consumer gauges (runtime/lag.py) read at scrape time, broker-free.

The consumer here is a stand-in with the four things lag.py reads from Faust's
(assignment, highwater, committed offsets, stalled seconds); that those attributes
exist on the real consumer is pinned in test_consumer_internals.py. What SREs rely
on: lag is highwater minus committed, never negative; partitions not yet fetched or
never committed are left out rather than guessed; changelogs are not source topics;
a worker whose consumer does not exist yet scrapes cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import faust
from faust.types import TP
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from streams.runtime import lag
from streams.runtime.metrics import Metrics

NAMES = {"qa.yujing.readings.v1": "yujing.readings.v1", "qa.yujing.ticks.v1": "yujing.ticks.v1"}
READINGS = "qa.yujing.readings.v1"
CHANGELOG = "qa-yujing-orders-changelog"


@dataclass
class Consumer:
    highwaters: dict[TP, int] = field(default_factory=dict)
    _committed_offset: dict[TP, int] = field(default_factory=dict)
    stalled: dict[TP, float] = field(default_factory=dict)
    assigned: set[TP] = field(default_factory=set)

    def assignment(self) -> set[TP]:
        return self.assigned

    def highwater(self, tp: TP) -> int | None:
        return self.highwaters.get(tp)

    def stalled_seconds(self, now: float) -> dict[TP, float]:
        return self.stalled


def _watched(consumer: Consumer | None) -> CollectorRegistry:
    registry = CollectorRegistry()
    app = faust.App("lag-test")
    app._consumer = consumer  # type: ignore[assignment]
    lag.watch_consumer(Metrics(registry), app, NAMES)
    return registry


def _value(registry: CollectorRegistry, name: str, partition: int) -> float | None:
    labels = {"topic": "yujing.readings.v1", "partition": str(partition)}
    return registry.get_sample_value(name, labels)


@given(highwater=st.integers(0, 10**9), committed=st.integers(0, 10**9))
def test_lag_is_highwater_minus_committed_and_never_negative(
    highwater: int, committed: int
) -> None:
    tp = TP(READINGS, 1)
    consumer = Consumer({tp: highwater}, {tp: committed}, assigned={tp})
    registry = _watched(consumer)
    assert _value(registry, "yujing_consumer_lag_messages", 1) == max(0, highwater - committed)
    assert _value(registry, "yujing_committed_offset", 1) == committed


def test_unknown_partitions_and_changelogs_are_left_out_not_guessed() -> None:
    fetched, unfetched, uncommitted = TP(READINGS, 0), TP(READINGS, 1), TP(READINGS, 2)
    changelog = TP(CHANGELOG, 0)
    consumer = Consumer(
        highwaters={fetched: 10, uncommitted: 7, changelog: 99},
        _committed_offset={fetched: 4, unfetched: 3, changelog: 1},
        stalled={fetched: 12.5, changelog: 3.0},
        assigned={fetched, unfetched, uncommitted, changelog},
    )
    registry = _watched(consumer)
    samples = {
        (m.name, tuple(sorted(s.labels.items())), s.value)
        for m in registry.collect()
        if m.name.startswith(("yujing_consumer", "yujing_committed", "yujing_offset_stalled"))
        for s in m.samples
    }
    p = (("partition", "0"), ("topic", "yujing.readings.v1"))
    p1 = (("partition", "1"), ("topic", "yujing.readings.v1"))
    assert samples == {
        ("yujing_consumer_lag_messages", p, 6.0),
        ("yujing_committed_offset", p, 4.0),
        ("yujing_committed_offset", p1, 3.0),  # committed, not yet fetched: no lag guessed
        ("yujing_offset_stalled_seconds", p, 12.5),
    }


def test_a_worker_without_a_consumer_yet_scrapes_cleanly() -> None:
    registry = _watched(None)
    names = {m.name for m in registry.collect()}
    assert {"yujing_consumer_lag_messages", "yujing_committed_offset"} <= names
    assert _value(registry, "yujing_consumer_lag_messages", 0) is None
