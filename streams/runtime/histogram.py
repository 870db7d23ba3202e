"""A Prometheus histogram counted in plain Python numbers, for per-event timings.

Where this sits: beside the hops of the flow (reading → signal → alert → order →
notification) that time every event: each hop's event (``yujing_stage_seconds``)
and each detector on each reading (``yujing_detector_seconds``). prometheus-client's
own histogram takes a lock for the bucket and another for the sum on every
observation; on a worker reading gateway batches that was 6 % of its busy time
(py-spy), more than the detectors' scoring. Here an observation is a bisection and
two additions; the buckets are made cumulative and exposed only when the registry
is scraped, in the same text format (``_bucket{le=…}``, ``_count``, ``_sum``).

Observations come from the worker's event loop and scrapes are served on it, so
nothing here is locked.

>>> from prometheus_client import CollectorRegistry
>>> registry = CollectorRegistry()
>>> h = CountingHistogram("demo_seconds", "A demo.", ["kind"], (0.1, 1.0), registry)
>>> for v in (0.05, 0.1, 0.5, 3.0):
...     h.labels("a").observe(v)
>>> registry.get_sample_value("demo_seconds_bucket", {"kind": "a", "le": "0.1"})
2.0
>>> registry.get_sample_value("demo_seconds_count", {"kind": "a"})
4.0
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

INF = float("inf")


class Child:
    """One label set's buckets: :meth:`observe` is all the hot path does."""

    __slots__ = ("_upper", "counts", "sum")

    def __init__(self, upper: tuple[float, ...]) -> None:
        self._upper = upper
        self.counts = [0] * len(upper)  # per bucket, not cumulative
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self._upper, value)] += 1
        self.sum += value


class CountingHistogram(Collector):
    """A labelled histogram registered on ``registry``, with the buckets given
    (``+Inf`` added), exposed as prometheus-client's histogram would be."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        upper = tuple(sorted(float(b) for b in buckets))
        self._upper = upper if upper and upper[-1] == INF else (*upper, INF)
        self._children: dict[tuple[str, ...], Child] = {}
        registry.register(self)

    def labels(self, *values: str) -> Child:
        """The child of these label values (made on first use, as prometheus-client's)."""
        if len(values) != len(self._labelnames):
            raise ValueError(f"{self._name}: expected labels {self._labelnames}, got {values}")
        key = tuple(str(v) for v in values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = Child(self._upper)
        return child

    def describe(self) -> Iterable[HistogramMetricFamily]:
        return [HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)]

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)
        for values, child in list(self._children.items()):
            counts, total = list(child.counts), child.sum
            cumulative, buckets = 0, []
            for bound, n in zip(self._upper, counts, strict=True):
                cumulative += n
                buckets.append((floatToGoString(bound), float(cumulative)))
            family.add_metric(list(values), buckets, sum_value=total)
        yield family
