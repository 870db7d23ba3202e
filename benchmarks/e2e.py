"""``yujing bench``: the whole pipeline end to end against raw Kafka, on the real broker.

    yujing bench [--json] [--events 200000] [--batch-size 500] [--alert-share 0.01]
                 [--latency-orders 1000] [--workers 1,2] [--modes batch,single]

Starts what it needs (the local KRaft broker unless ``YUJING_KAFKA_BOOTSTRAP`` is
set; the SMS/voice stubs; the workers as processes) and measures in one run, for
gateway batches (``yujing.reading-batches.v1``) and single readings
(``yujing.readings.v1``) separately:

- **baseline**: a bare aiokafka consume → produce passthrough of *the same records*
  on the same broker (``benchmarks.common``), in readings per second;
- **throughput**: a backlog of ``--events`` readings (a share of them alarming, each
  at a place of its own, so each becomes a signal, an alert and a dispatch order) is
  written once the workers' group is stable; the rate is timed, as the baseline's is,
  from the first reading processed to the last: the Kafka timestamps of the first
  and the last alarm's dispatch orders and the readings between them (the writing
  is not timed; a rate near the writer's own is flagged). 1 and 2 workers;
- **latency** on 1 worker, at half its measured maximum (or ``--latency-rate``),
  halved again if the pipeline falls behind at it: readings produced at that
  steady rate (batches uploaded at it) until ``--latency-orders`` alarms have gone
  in; each latency is its dispatch order's Kafka timestamp minus the alarm's event
  time (its upload time), p50/p95/p99 over all of them;
- **CPU**: what the workers used per reading of the backlog (user + system, their
  main threads and the rest apart), a figure this shared machine's neighbours
  disturb far less than a rate (under ``detail``);
- **memory**: every worker's peak RSS, and one worker's RSS once it holds the state
  of 100,000 sensors of every catalogue kind.

``--json`` prints one JSON object as the last line: for batches
``pipeline_events_per_s``, ``baseline_events_per_s``, ``throughput_ratio``,
``latency_ms``, ``latency_samples``, ``workers_2_events_per_s``, ``rss_mb``; for
single readings ``single_throughput_ratio`` and ``single_latency_ms``; ``events``,
``rss_mb_100k_sensors``; the rest under ``detail``. A benchmark, never a timed test:
it prints figures against the same run's baseline and asserts none.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import bootstrap, raw_passthrough_rate, security
from benchmarks.feed import Feed, Record, backlog, batch_backlog, produce_backlog
from benchmarks.stack import Stack, cpu_seconds, metric_sum, peak_rss_mb, rss_mb
from schemas import Alert, DispatchOrder
from schemas.codec import decode, encode
from schemas.registry import ALERTS, DISPATCH_ORDERS, READING_BATCHES, READINGS
from streams.runtime.kafka_io import ensure_topics, read_to_end
from streams.tools.gateway import Batcher

__all__ = ["Feed", "backlog", "metric_sum", "produce_backlog"]  # the scenario tests use them

ORDERS = f'topic="{DISPATCH_ORDERS.name}"'


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "n": 0}
    if len(values) == 1:
        return {"p50": values[0], "p95": values[0], "p99": values[0], "n": 1}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "n": len(values)}


def fell_behind(latencies: Sequence[float]) -> bool:
    """Whether latencies, in the order their alarms went in, grew through the run: a
    backlog building up, so the rate was not sustainable (the last tenth's median is
    over three times the first tenth's and half a second more).

    >>> fell_behind([40.0] * 90 + [45.0] * 10)
    False
    >>> fell_behind([40.0 + 30 * i for i in range(100)])
    True
    """
    k = max(1, len(latencies) // 10)
    if len(latencies) < 2 * k:
        return False
    first = statistics.median(latencies[:k])
    last = statistics.median(latencies[-k:])
    return last > max(3 * first, first + 500)


@dataclass
class Mode:
    name: str  # "batch" or "single"
    size: int  # readings per record

    @property
    def topic(self) -> str:
        return READING_BATCHES.name if self.size > 1 else READINGS.name

    def records(self, feed: Feed, n: int, partitions: int) -> list[Record]:
        if self.size > 1:
            return batch_backlog(feed, n, partitions, self.size)
        return backlog(feed, n)


@dataclass
class Run:
    mode: str
    workers: int
    events_per_s: float
    orders: int
    rss_mb: list[float]
    latency_ms: dict[str, float] = field(default_factory=dict)
    latency_rate: float = 0.0
    latency_rate_halved: int = 0  # times the pipeline fell behind and the rate was halved
    #: the workers' CPU per reading of the backlog, µs: their main threads', the rest's
    cpu_us: tuple[float, float] = (float("nan"), float("nan"))


def order_times(bs: str, prefix: str) -> dict[str, int]:
    """Place → Kafka timestamp (ms) of its alert's dispatch order."""
    topics = [prefix + ALERTS.name, prefix + DISPATCH_ORDERS.name]
    got = read_to_end(bs, topics, security=security())
    place = {a.alert_id: a.scope for a in (decode(Alert, r.value) for r in got[topics[0]])}
    out: dict[str, int] = {}
    for r in got[topics[1]]:
        order = decode(DispatchOrder, r.value)
        where = place.get(order.alert_id)
        if where is not None:
            out.setdefault(where, r.timestamp)
    return out


def processing_rate(feed: Feed, times: dict[str, int]) -> float:
    """Readings per second between the first and the last alarm's orders."""
    done = sorted((feed.alarm_index[p], ts) for p, ts in times.items() if p in feed.alarm_index)
    if len(done) < 2:
        raise RuntimeError(f"bench: {len(done)} orders of alarms: too few to time a rate")
    (i0, t0), (i1, t1) = done[0], done[-1]
    return (i1 - i0) / max((t1 - t0) / 1000.0, 1e-6)


def paced(bs: str, topic: str, feed: Feed, mode: Mode, rate: float, readings: int) -> None:
    """``readings`` readings at ``rate`` a second, uploaded as ``mode`` records; each
    reading's event time is its upload time (aiokafka: kafka-python's pure Python
    checksums cannot keep up with batch records)."""
    asyncio.run(_paced(bs, topic, feed, mode, rate, readings))


async def _paced(bs: str, topic: str, feed: Feed, mode: Mode, rate: float, readings: int) -> None:
    from aiokafka import AIOKafkaProducer

    p = AIOKafkaProducer(
        bootstrap_servers=bs,
        acks="all",
        linger_ms=0,
        max_request_size=1 << 20,
        **security().aiokafka(),
    )
    await p.start()
    partitions = int(os.environ.get("YUJING_PARTITIONS", "2"))
    pending = []
    try:
        t0 = time.perf_counter()
        sent = 0
        while sent < readings:
            delay = t0 + sent / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            now = datetime.now(UTC)
            k = min(mode.size, readings - sent)
            if mode.size == 1:
                key, value = feed.next(now)
                pending.append(await p.send(topic, key=key, value=value))
            else:
                g = Batcher(partitions, mode.size, gateway_id="bench")
                for _ in range(k):
                    g.add(feed.reading(now))
                for b in g.flush():
                    key, value = b.sensor_group.encode(), encode(b)
                    pending.append(await p.send(topic, key=key, value=value))
            sent += k
        for fut in pending:
            await fut
    finally:
        await p.stop()


def run_mode(
    bs: str, run: str, mode: Mode, workers: int, args: argparse.Namespace, logs: Path
) -> Run:
    prefix = f"bench-{run}-{mode.name}-w{workers}."
    feed = Feed(f"{run}{mode.name[0]}{workers}", args.alert_share)
    records = mode.records(feed, args.events, args.partitions)
    stack = Stack(bs, prefix, workers, args.partitions, logs / f"{mode.name}-w{workers}")
    try:
        # The backlog goes in once the group is stable (no rebalance inside the timed span);
        # the span runs from the first alarm's order to the last, so writing is not timed,
        # unless the writer is slower than the pipeline: then it says so.
        stack.wait_ready()
        cpu = workers_cpu(stack)
        started = time.perf_counter()
        produce_backlog(bs, prefix + mode.topic, records)
        writer = args.events / (time.perf_counter() - started)
        want = len(feed.alarm_index)
        stack.wait_metric("yujing_events_out_total", ORDERS, want, timeout=3600)
        used = [after - before for after, before in zip(workers_cpu(stack), cpu, strict=True)]
        rate = processing_rate(feed, order_times(bs, prefix))
        out = Run(mode.name, workers, rate, want, [])
        out.cpu_us = (used[0] / args.events * 1e6, used[1] / args.events * 1e6)
        capped = (
            " (the backlog writer's pace: the pipeline may be faster)"
            if rate > writer * 0.8
            else ""
        )
        print(
            f"  {mode.name}, {workers} worker(s): {rate:,.0f} readings/s{capped}; workers' CPU "
            f"{sum(out.cpu_us):.0f} µs a reading ({out.cpu_us[0]:.0f} in main threads)",
            flush=True,
        )
        if workers == 1 and args.latency_orders > 0:
            # Half the backlog rate, unless the pipeline falls behind at it (one backlog
            # run's rate varies by more than half on this machine): then half again.
            out.latency_rate = args.latency_rate or rate / 2
            n = args.latency_orders * feed.every
            for attempt in range(3):
                before = set(feed.alarm_time)
                paced(bs, prefix + mode.topic, feed, mode, out.latency_rate, n)
                places = sorted(set(feed.alarm_time) - before, key=feed.alarm_time.__getitem__)
                want += len(places)
                stack.wait_metric("yujing_events_out_total", ORDERS, want, 600)
                times = order_times(bs, prefix)
                lat = [
                    times[p] - feed.alarm_time[p].timestamp() * 1000 for p in places if p in times
                ]
                out.latency_ms = percentiles(lat)
                behind = fell_behind(lat)
                print(
                    f"  {mode.name}, at {out.latency_rate:,.0f} readings/s: event → order "
                    f"p50 {out.latency_ms['p50']:.1f} ms, p99 {out.latency_ms['p99']:.1f} ms "
                    f"({len(lat)} orders)" + (": fell behind" if behind else ""),
                    flush=True,
                )
                if not behind or attempt == 2:
                    break
                out.latency_rate /= 2
                out.latency_rate_halved += 1
        out.rss_mb = [peak_rss_mb(c.proc.pid) for c in stack.workers]
        return out
    finally:
        stack.stop()


def workers_cpu(stack: Stack) -> tuple[float, float]:
    """CPU seconds the stack's workers have used: their main threads', the rest's."""
    used = [cpu_seconds(c.proc.pid) for c in stack.workers]
    return sum(u[0] for u in used), sum(u[1] for u in used)


def rss_with_sensors(
    bs: str, run: str, sensors: int, args: argparse.Namespace, logs: Path
) -> tuple[float, float]:
    """(idle RSS, RSS once ``sensors`` sensors of every kind have state), one worker, MiB."""
    from benchmarks.detection_throughput import readings

    prefix = f"bench-{run}-rss."
    records: list[Any] = []
    g = Batcher(args.partitions, 500, window_s=float("inf"), gateway_id="bench")
    for r in readings(sensors, sensors, seed=7):
        records += g.add(r)
    records += g.flush()
    stack = Stack(bs, prefix, 1, args.partitions, logs / "rss")
    try:
        stack.wait_ready()
        idle = rss_mb(stack.workers[0].proc.pid)
        produce_backlog(
            bs,
            prefix + READING_BATCHES.name,
            [(b.sensor_group.encode(), encode(b)) for b in records],
        )
        stack.wait_metric("yujing_batch_readings_total", "", sensors, timeout=1200)
        stage = 'stage="detect.reading-batches"'
        stack.wait_metric("yujing_stage_seconds_count", stage, len(records), timeout=120)
        return idle, rss_mb(stack.workers[0].proc.pid)
    finally:
        stack.stop()


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--events", type=int, default=200_000, help="readings in each backlog")
    ap.add_argument("--batch-size", type=int, default=500, help="readings per gateway batch")
    ap.add_argument("--alert-share", type=float, default=0.01, help="share of readings alarming")
    ap.add_argument("--latency-orders", type=int, default=1000, help="orders timed for latency")
    ap.add_argument(
        "--latency-rate",
        type=float,
        default=0.0,
        help="readings/s for the latency run (default 0: half the measured maximum)",
    )
    ap.add_argument("--workers", default="1,2", help="worker counts for batches, e.g. 1,2")
    ap.add_argument("--modes", default="batch,single", help="batch, single, or both")
    ap.add_argument("--rss-sensors", type=int, default=100_000, help="0: skip the memory run")
    ap.add_argument("--partitions", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line")


def run(args: argparse.Namespace) -> int:
    from streams.core.shared.config import ConfigError

    try:
        worker_counts = [int(w) for w in str(args.workers).split(",")]
    except ValueError:
        raise ConfigError("bench: --workers is comma-separated numbers, e.g. 1,2") from None
    modes = [m.strip() for m in str(args.modes).split(",") if m.strip()]
    if not set(modes) <= {"batch", "single"} or not modes or min(worker_counts) < 1:
        raise ConfigError("bench: --modes batch,single (either or both), --workers >= 1")
    if args.events < 1000 or not 0 < args.alert_share <= 0.5 or not 1 < args.batch_size <= 500:
        raise ConfigError("bench: --events >= 1000, --alert-share in (0, 0.5], --batch-size 2-500")
    os.environ["YUJING_PARTITIONS"] = str(args.partitions)
    bs = bootstrap()
    run_id = uuid.uuid4().hex[:6]
    logs = Path(tempfile.mkdtemp(prefix="yujing-bench-"))
    cores = os.cpu_count() or 1
    print(f"yujing bench: broker {bs}, {cores} cores, logs in {logs}", flush=True)
    results: dict[str, dict[str, Any]] = {}
    for name in modes:
        mode = Mode(name, args.batch_size if name == "batch" else 1)
        raw_prefix = f"bench-{run_id}-raw-{name}."
        ensure_topics(bs, raw_prefix, args.partitions, security=security())
        records = mode.records(Feed(f"{run_id}raw", args.alert_share), args.events, args.partitions)
        produce_backlog(bs, raw_prefix + mode.topic, records)
        raw = raw_passthrough_rate(
            bs, raw_prefix + mode.topic, raw_prefix + "passthrough", len(records), f"raw-{run_id}"
        )
        raw_readings = raw * args.events / len(records)
        print(f"  raw aiokafka passthrough, {name}: {raw_readings:,.0f} readings/s", flush=True)
        counts = worker_counts if name == "batch" else [1]
        runs = [run_mode(bs, run_id, mode, w, args, logs) for w in counts]
        results[name] = {"raw": raw_readings, "records": len(records), "runs": runs}
    rss_idle = rss_loaded = float("nan")
    if args.rss_sensors > 0:
        rss_idle, rss_loaded = rss_with_sensors(bs, run_id, args.rss_sensors, args, logs)
        print(
            f"  RSS of one worker: {rss_idle:.0f} MiB idle, {rss_loaded:.0f} MiB with "
            f"{args.rss_sensors:,} sensors' state",
            flush=True,
        )
    doc = report(results, args, cores, rss_loaded, rss_idle)
    if args.json:
        print(json.dumps(doc))
    return 0


def report(
    results: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    cores: int,
    rss_loaded: float,
    rss_idle: float,
) -> dict[str, Any]:
    print()
    print(f"{'':26}{'readings/s':>11}{'x raw':>8}{'p50 ms':>9}{'p99 ms':>9}{'peak RSS':>10}")
    measured = rss_loaded == rss_loaded  # not NaN: the memory run ran
    doc: dict[str, Any] = {
        "events": args.events,
        "rss_mb_100k_sensors": round(rss_loaded, 1) if measured else None,
    }
    detail: dict[str, Any] = {
        "cores": cores,
        "alert_share": args.alert_share,
        "partitions": args.partitions,
        "batch_size": args.batch_size,
        "rss_mb_idle": round(rss_idle, 1) if measured else None,
    }
    for name, res in results.items():
        raw = res["raw"]
        print(f"{'raw passthrough, ' + name:26}{raw:>11,.0f}{1.0:>8.2f}")
        for r in res["runs"]:
            lat = r.latency_ms or {}
            label = f"{name}, {r.workers} worker(s)"
            print(
                f"{label:26}{r.events_per_s:>11,.0f}{r.events_per_s / raw:>8.3f}"
                f"{lat.get('p50', float('nan')):>9.1f}{lat.get('p99', float('nan')):>9.1f}"
                f"{max(r.rss_mb):>8.0f} MiB"
            )
        one = res["runs"][0]
        lat = {k: round(one.latency_ms.get(k, float("nan")), 2) for k in ("p50", "p95", "p99")}
        detail[name] = {
            "raw_events_per_s": round(raw),
            "records": res["records"],
            "latency_input_events_per_s": round(one.latency_rate),
            "latency_rate_halved": one.latency_rate_halved,
            "runs": [
                {
                    "workers": r.workers,
                    "events_per_s": round(r.events_per_s),
                    "orders": r.orders,
                    "rss_mb": [round(x, 1) for x in r.rss_mb],
                    "cpu_us_per_reading": {
                        "main_thread": round(r.cpu_us[0], 1),
                        "other_threads": round(r.cpu_us[1], 1),
                    },
                }
                for r in res["runs"]
            ],
        }
        if name == "batch":
            two = [r for r in res["runs"] if r.workers == 2]
            doc.update(
                pipeline_events_per_s=round(one.events_per_s),
                baseline_events_per_s=round(raw),
                throughput_ratio=round(one.events_per_s / raw, 4),
                latency_ms=lat,
                latency_samples=int(one.latency_ms.get("n", 0)),
                workers_2_events_per_s=round(two[0].events_per_s) if two else None,
                rss_mb=round(max(x for r in res["runs"] for x in r.rss_mb), 1),
            )
        else:
            doc.update(
                single_throughput_ratio=round(one.events_per_s / raw, 4),
                single_latency_ms=lat,
                single_latency_samples=int(one.latency_ms.get("n", 0)),
            )
    if measured:
        print(f"\nRSS with {args.rss_sensors:,} sensors' state: {rss_loaded:.0f} MiB")
    doc["detail"] = detail
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="yujing bench", description=(__doc__ or "").splitlines()[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))


def add_bench_command(sub: Any) -> None:
    b = sub.add_parser(
        "bench",
        help="end-to-end benchmark: batches and single readings vs raw aiokafka, latency, RSS",
    )
    add_arguments(b)
    b.set_defaults(func=run)


if __name__ == "__main__":
    raise SystemExit(main())
