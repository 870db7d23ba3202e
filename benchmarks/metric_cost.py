"""What the worker's per-event metrics cost, against the libraries' own, in one run.

    python -m benchmarks.metric_cost [--calls 200000] [--repeat 7] [--json]

Two pairs, each timed on the same calls in the same process (best of ``--repeat``):

- one histogram observation: prometheus-client's ``Histogram`` (the baseline)
  against :class:`streams.runtime.histogram.CountingHistogram`, with the buckets
  of ``yujing_detector_seconds`` (observed per detector per reading);
- one message through Faust's sensor calls (message in, stream event in, a table
  get and set, stream event out, message out): Faust's ``PrometheusMonitor`` (the
  baseline) against :class:`streams.runtime.sensor.CountingMonitor`.

No broker. Results are µs per call (per message for the sensor).
"""

from __future__ import annotations

import argparse
import json
import timeit
from collections.abc import Callable
from typing import Any

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP
from prometheus_client import CollectorRegistry, Histogram

from streams.runtime.histogram import CountingHistogram
from streams.runtime.sensor import CountingMonitor

BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1)


class _Named:
    """A stand-in stream, table or message: hashed by identity, attributes as given."""

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


def best_us(fn: Callable[[], None], calls: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=calls, repeat=repeat)) / calls * 1e6


def one_message(monitor: Any) -> Callable[[], None]:
    tp = TP("yujing.readings.v1", 0)
    stream = _Named(shortlabel="Stream: detect", task_owner=_Named())
    table = _Named(name="sensor-detector-state")
    message = _Named(time_in=None)

    def run() -> None:
        monitor.on_message_in(tp, 1, message)
        state = monitor.on_stream_event_in(tp, 1, stream, None)
        monitor.on_table_get(table, "s1")
        monitor.on_table_set(table, "s1", "v")
        monitor.on_stream_event_out(tp, 1, stream, None, state)
        monitor.on_message_out(tp, 1, message)

    return run


def measure(calls: int, repeat: int) -> dict[str, dict[str, float]]:
    theirs = Histogram("h_seconds", "d", ["kind"], buckets=BUCKETS, registry=CollectorRegistry())
    ours = CountingHistogram("h_seconds", "d", ["kind"], BUCKETS, CollectorRegistry())
    h1, h2 = theirs.labels("rate"), ours.labels("rate")
    faust_monitor = PrometheusMonitor(metrics=FaustMetrics.create(CollectorRegistry(), "faust"))
    counting = CountingMonitor(metrics=FaustMetrics.create(CollectorRegistry(), "faust"))
    out = {
        "histogram_observe_us": {
            "prometheus_client": best_us(lambda: h1.observe(3e-5), calls, repeat),
            "counting": best_us(lambda: h2.observe(3e-5), calls, repeat),
        },
        "sensor_per_message_us": {
            "faust_prometheus": best_us(one_message(faust_monitor), calls // 4, repeat),
            "counting": best_us(one_message(counting), calls // 4, repeat),
        },
    }
    counting.flush()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.metric_cost", description=__doc__)
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    result = measure(args.calls, args.repeat)
    for name, pair in result.items():
        (base, b), (ours, o) = pair.items()
        print(f"{name:24} {base} {b:.3f}  {ours} {o:.3f}  ({b / o:.1f} x)")
    if args.json:
        print(json.dumps({k: {n: round(v, 3) for n, v in p.items()} for k, p in result.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
