"""``yujing bench``: the whole pipeline end to end against raw Kafka, on the real broker.

    yujing bench [--json] [--events 20000] [--workers 1,2] [--fractions 0.25,0.5,0.75]

Starts what it needs (the local KRaft broker unless ``YUJING_KAFKA_BOOTSTRAP``
is set; the SMS/voice stubs; the workers as processes) and measures, in one run:

- **baseline**: a bare aiokafka consume → produce passthrough over the same
  readings on the same broker (``benchmarks.common``);
- **throughput**: a backlog of readings (a share of them alarming, each at a
  place of its own, so each one becomes a signal, an alert and a dispatch
  order) through every agent, for 1 and 2 workers: written once every worker
  is ready (a stable group), readings per second from the first write until
  the detect agent has read them all and every expected order is on its topic;
- **latency** at several input rates (fractions of that maximum): readings
  are produced at a steady rate with ``event_time`` = the moment they are
  sent; latency is the Kafka timestamp of the signal, alert and dispatch order
  on their topics minus that event time (p50, p95, p99);
- **peak RSS** of each worker (``VmHWM``).

``--json`` prints one JSON object as the last line: ``pipeline_events_per_s``
(1 worker), ``baseline_events_per_s``, ``throughput_ratio``, ``latency_ms``
(event → dispatch order at half the 1-worker maximum), ``rss_mb`` (largest
worker peak), and everything else under ``detail``. A benchmark, never a
timed test: it prints figures against the same run's baseline and asserts none.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import Poll, bootstrap, raw_passthrough_rate
from schemas import Alert, DispatchOrder, RiskSignal, SensorReading
from schemas.codec import decode, encode
from schemas.registry import ALERTS, DISPATCH_ORDERS, READINGS, SIGNALS
from streams.dev.broker import find_free_port
from streams.dev.runner import Child, get_json, spawn, wait_http
from streams.runtime.kafka_io import ensure_topics

QUIET_KIND, QUIET_VALUE = "gas_lel", 2.0  # well under the restaurant gas limit (20 %LEL)
ALARM_VALUE = 31.0  # over it: one signal → one alert → one order per fresh place


@dataclass
class Phase:
    rate: float
    sent: int
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)

    def pct(self, stage: str) -> dict[str, float]:
        return percentiles(self.latencies_ms.get(stage, []))


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "n": 0}
    if len(values) == 1:
        v = values[0]
        return {"p50": v, "p95": v, "p99": v, "n": 1}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "n": len(values)}


class Feed:
    """Readings for one run: quiet sensors, and every ``1/share``-th one an alarm at a new place."""

    def __init__(self, run: str, share: float, sensors: int = 500) -> None:
        self.run, self.every, self.sensors = run, max(1, round(1 / share)) if share else 0, sensors
        self.n = 0
        self.alarm_time: dict[str, datetime] = {}  # place id → event time of its alarm

    def next(self, now: datetime) -> tuple[bytes, bytes]:
        i = self.n
        self.n += 1
        if self.every and i % self.every == self.every - 1:
            place = f"site.bench.{self.run}.{i}"
            sensor, value = f"alarm-{self.run}-{i}", ALARM_VALUE
            self.alarm_time[place] = now
        else:
            place = f"site.bench.{self.run}.quiet-{i % self.sensors}"
            sensor, value = f"quiet-{self.run}-{i % self.sensors}", QUIET_VALUE
        r = SensorReading(
            reading_id=f"r-{self.run}-{i}",
            sensor_id=sensor,
            sensor_kind=QUIET_KIND,
            place_id=place,
            value=value,
            unit="%LEL",
            event_time=now,
        )
        return sensor.encode(), encode(r)


def _producer(bs: str) -> Any:
    from kafka import KafkaProducer

    return KafkaProducer(
        bootstrap_servers=bs, acks="all", linger_ms=0, max_in_flight_requests_per_connection=5
    )


def backlog(feed: Feed, n: int) -> list[tuple[bytes, bytes]]:
    """``n`` encoded readings whose event times lie ten minutes back, 1 ms apart."""
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    return [feed.next(t0 + timedelta(milliseconds=i)) for i in range(n)]


def produce_backlog(bs: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    p = _producer(bs)
    for key, value in records:
        p.send(topic, key=key, value=value)
    p.flush(timeout=60)
    p.close()


def produce_paced(bs: str, topic: str, feed: Feed, rate: float, seconds: float) -> int:
    """Send at ``rate`` per second for ``seconds``; each reading's event time is its send time."""
    p = _producer(bs)
    n = int(rate * seconds)
    t0 = time.perf_counter()
    for i in range(n):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        key, value = feed.next(datetime.now(UTC))
        p.send(topic, key=key, value=value)
    p.flush(timeout=60)
    p.close()
    return n


def metric_sum(webs: list[str], name: str, labels: str) -> float:
    total = 0.0
    for web in webs:
        try:
            with urllib.request.urlopen(f"{web}/metrics", timeout=5) as resp:
                for line in resp.read().decode().splitlines():
                    if line.startswith(f"{name}{{{labels}}} "):
                        total += float(line.split()[-1])
        except OSError:
            pass
    return total


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Stack:
    """Sinks + ``workers`` worker processes on one topic prefix (one consumer group)."""

    def __init__(self, bs: str, prefix: str, workers: int, partitions: int, logs: Path) -> None:
        self.bs, self.prefix, self.logs = bs, prefix, logs
        self.children: list[Child] = []
        self.webs: list[str] = []
        sms, voice = find_free_port(), find_free_port()
        self.env = {
            "YUJING_KAFKA_BOOTSTRAP": bs,
            "YUJING_APP_ID": f"yujing-{prefix.rstrip('.')}",
            "YUJING_TOPIC_PREFIX": prefix,
            "YUJING_PARTITIONS": str(partitions),
            "YUJING_SMS_URL": f"http://127.0.0.1:{sms}",
            "YUJING_VOICE_URL": f"http://127.0.0.1:{voice}",
            "YUJING_SESSION_TIMEOUT_S": "10",
        }
        ensure_topics(bs, prefix, partitions)
        sinks = spawn(
            "sinks",
            ["sinks", "--sms-port", str(sms), "--voice-port", str(voice)],
            self.env,
            logs,
        )
        self.children.append(sinks)
        wait_http(sinks, f"http://127.0.0.1:{sms}/healthz", timeout=30)
        self.workers: list[Child] = []
        for w in range(workers):
            port = find_free_port()
            env = {
                **self.env,
                "YUJING_WEB_PORT": str(port),
                "YUJING_DATA_DIR": str(logs / f"worker-{w}"),
            }
            child = spawn(f"worker-{w}", ["worker", "--loglevel", "warning"], env, logs)
            self.children.append(child)
            self.workers.append(child)
            self.webs.append(f"http://127.0.0.1:{port}")

    def wait_ready(self, timeout: float = 180) -> None:
        """Every worker ready, and between them every partition of the readings topic."""
        deadline = time.monotonic() + timeout
        for child, web in zip(self.workers, self.webs, strict=True):
            wait_http(child, f"{web}/ready", timeout=max(1.0, deadline - time.monotonic()))
        # A worker ready before the next one joined is rebalancing again by now:
        # wait until every worker answers ready in two passes a second apart.
        passes = 0
        while passes < 2 and time.monotonic() < deadline:
            ok = all(get_json(f"{web}/ready")[0] == 200 for web in self.webs)
            passes = passes + 1 if ok else 0
            time.sleep(1.0)

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()


def wait_done(stack: Stack, readings: int, orders: int, timeout: float) -> float:
    """Wall time at which every reading was read and every order published (or timeout)."""
    deadline = time.monotonic() + timeout
    rd = f'topic="{READINGS.name}"'
    od = f'topic="{DISPATCH_ORDERS.name}"'
    poll = Poll()
    while time.monotonic() < deadline:
        got_r = metric_sum(stack.webs, "yujing_events_in_total", rd)
        got_o = metric_sum(stack.webs, "yujing_events_out_total", od)
        if got_r >= readings and got_o >= orders:
            return time.perf_counter()
        time.sleep(poll.interval(got_r, readings))
    raise TimeoutError(
        f"pipeline did not finish: {got_r:.0f}/{readings} readings, {got_o:.0f}/{orders} orders"
    )


def latencies(
    stack: Stack, feed: Feed, places: set[str], timeout: float = 30
) -> dict[str, list[float]]:
    """Kafka timestamp on each output topic minus the alarm's event time, per stage."""
    from kafka import KafkaConsumer

    out: dict[str, list[float]] = {"signal": [], "alert": [], "order": []}
    want = {SIGNALS.name: len(places), ALERTS.name: len(places), DISPATCH_ORDERS.name: len(places)}
    seen: dict[str, int] = dict.fromkeys(want, 0)
    alert_place: dict[str, str] = {}
    consumer = KafkaConsumer(
        *[stack.prefix + t for t in want],
        bootstrap_servers=stack.bs,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    deadline = time.monotonic() + timeout
    pending_orders: list[tuple[DispatchOrder, int]] = []
    try:
        while time.monotonic() < deadline and any(seen[t] < want[t] for t in want):
            for records in consumer.poll(timeout_ms=200).values():
                for r in records:
                    name = r.topic[len(stack.prefix) :]
                    if name == SIGNALS.name:
                        sig = decode(RiskSignal, r.value)
                        if sig.place_id in places:
                            seen[name] += 1
                            out["signal"].append(_ms(r.timestamp, feed.alarm_time[sig.place_id]))
                    elif name == ALERTS.name:
                        alert = decode(Alert, r.value)
                        alert_place[alert.alert_id] = alert.scope
                        if alert.scope in places:
                            seen[name] += 1
                            out["alert"].append(_ms(r.timestamp, feed.alarm_time[alert.scope]))
                    else:
                        pending_orders.append((decode(DispatchOrder, r.value), r.timestamp))
            still = []
            for order, ts in pending_orders:
                place = alert_place.get(order.alert_id)
                if place is None:
                    still.append((order, ts))
                elif place in places:
                    seen[DISPATCH_ORDERS.name] += 1
                    out["order"].append(_ms(ts, feed.alarm_time[place]))
            pending_orders = still
    finally:
        consumer.close()
    return out


def _ms(kafka_ts_ms: int, event_time: datetime) -> float:
    return kafka_ts_ms - event_time.timestamp() * 1000.0


@dataclass
class WorkerRun:
    workers: int
    events_per_s: float
    rss_mb: list[float]
    phases: list[Phase]


def run_workers(
    bs: str, run: str, workers: int, args: argparse.Namespace, logs: Path, max_rate: float | None
) -> WorkerRun:
    prefix = f"bench-{run}-w{workers}."
    feed = Feed(f"{run}w{workers}", args.alert_share)
    topic = prefix + READINGS.name
    ensure_topics(bs, prefix, args.partitions)
    records = backlog(feed, args.events)
    backlog_orders = len(feed.alarm_time)
    stack = Stack(bs, prefix, workers, args.partitions, logs / f"w{workers}")
    try:
        # The backlog goes in once every worker is ready, so the group is stable and
        # no rebalance (with its changelog recovery) falls inside the timed window:
        # a backlog written first was partly read by the first worker up before the
        # second joined, and the timed window held that rebalance.
        stack.wait_ready()
        t_start = time.perf_counter()
        produce_backlog(bs, topic, records)
        t_done = wait_done(stack, args.events, backlog_orders, timeout=600)
        rate = args.events / max(t_done - t_start, 1e-9)
        base = max_rate or rate
        phases = []
        total_readings, total_orders = args.events, backlog_orders
        for frac in args.fractions:
            before = set(feed.alarm_time)
            r = max(1.0, base * frac)
            sent = produce_paced(bs, topic, feed, r, args.phase_s)
            total_readings += sent
            places = set(feed.alarm_time) - before
            total_orders += len(places)
            wait_done(stack, total_readings, total_orders, timeout=120)
            phase = Phase(r, sent)
            phase.latencies_ms = latencies(stack, feed, places)
            phases.append(phase)
            print(
                f"  {workers} worker(s), {r:,.0f} readings/s for {args.phase_s:g}s: "
                f"event→order p99 {phase.pct('order')['p99']:.1f} ms",
                flush=True,
            )
        rss = [peak_rss_mb(c.proc.pid) for c in stack.workers]
        return WorkerRun(workers, rate, rss, phases)
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="yujing bench", description=(__doc__ or "").splitlines()[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--events", type=int, default=20_000, help="backlog for the throughput run")
    ap.add_argument("--alert-share", type=float, default=0.01, help="share of readings alarming")
    ap.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    ap.add_argument(
        "--fractions", default="0.25,0.5,0.75", help="input rates as fractions of the maximum"
    )
    ap.add_argument("--phase-s", type=float, default=8.0, help="seconds per input rate")
    ap.add_argument("--partitions", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line")


def run(args: argparse.Namespace) -> int:
    from streams.core.shared.config import ConfigError

    try:
        args.fractions = [float(f) for f in str(args.fractions).split(",")]
        worker_counts = [int(w) for w in str(args.workers).split(",")]
    except ValueError:
        raise ConfigError("bench: --fractions and --workers are comma-separated numbers") from None
    if args.events < 100 or not 0 < args.alert_share <= 0.5 or args.phase_s <= 0:
        raise ConfigError("bench: --events >= 100, --alert-share in (0, 0.5], --phase-s > 0")
    if not worker_counts or min(worker_counts) < 1 or not all(0 < f <= 1 for f in args.fractions):
        raise ConfigError("bench: --workers >= 1 and --fractions within (0, 1]")
    bs = bootstrap()
    run_id = uuid.uuid4().hex[:6]
    logs = Path(tempfile.mkdtemp(prefix="yujing-bench-"))
    cores = os.cpu_count() or 1
    print(f"yujing bench: broker {bs}, {cores} cores, logs in {logs}", flush=True)

    raw_prefix = f"bench-{run_id}-raw."
    ensure_topics(bs, raw_prefix, args.partitions)
    produce_backlog(
        bs, raw_prefix + READINGS.name, backlog(Feed(run_id + "raw", args.alert_share), args.events)
    )
    baseline = raw_passthrough_rate(
        bs, raw_prefix + READINGS.name, raw_prefix + "passthrough", args.events, f"raw-{run_id}"
    )
    print(f"  raw aiokafka passthrough: {baseline:,.0f} events/s", flush=True)

    runs: list[WorkerRun] = []
    one_worker_rate: float | None = None
    for w in worker_counts:
        wr = run_workers(bs, run_id, w, args, logs, one_worker_rate)
        one_worker_rate = one_worker_rate or wr.events_per_s
        runs.append(wr)
        print(f"  {w} worker(s): {wr.events_per_s:,.0f} readings/s end to end", flush=True)

    first = runs[0]
    half = min(first.phases, key=lambda p: abs(p.rate - 0.5 * first.events_per_s))
    print()
    print(f"{'':28}{'events/s':>10}{'x raw':>8}{'peak RSS/worker':>17}")
    print(f"{'raw aiokafka passthrough':28}{baseline:>10,.0f}{1.0:>8.2f}{'':>17}")
    for wr in runs:
        rss = ", ".join(f"{r:.0f}" for r in wr.rss_mb) + " MiB"
        label = f"pipeline, {wr.workers} worker(s)"
        print(f"{label:28}{wr.events_per_s:>10,.0f}{wr.events_per_s / baseline:>8.2f}{rss:>17}")
    print()
    print(
        f"{'workers':>7} {'input/s':>8} {'stage':>7} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'n':>5}"
    )
    for wr in runs:
        for ph in wr.phases:
            for stage in ("signal", "alert", "order"):
                p = ph.pct(stage)
                print(
                    f"{wr.workers:>7} {ph.rate:>8,.0f} {stage:>7} {p['p50']:>8.1f} "
                    f"{p['p95']:>8.1f} {p['p99']:>8.1f} {p['n']:>5}"
                )
    scaling = runs[1].events_per_s / first.events_per_s if len(runs) > 1 else None
    print()
    ratio = first.events_per_s / baseline
    print(f"target pipeline ≥ 0.5 x raw: {ratio:.2f} x raw")
    order = half.pct("order")
    print(
        f"target p99 event→order ≤ 50 ms at half the max rate ({half.rate:,.0f}/s): "
        f"{order['p99']:.1f} ms"
    )
    if scaling is not None:
        note = (
            ""
            if cores >= 4
            else f" (this machine has {cores} cores: broker, sinks, bench and both workers "
            "share them, so it cannot show 1.8x)"
        )
        print(f"target 2 workers ≥ 1.8 x 1 worker: {scaling:.2f}x{note}")
    if args.json:
        doc = {
            "pipeline_events_per_s": round(first.events_per_s),
            "baseline_events_per_s": round(baseline),
            "throughput_ratio": round(ratio, 4),
            "latency_ms": {k: round(order[k], 2) for k in ("p50", "p95", "p99")},
            "rss_mb": round(max(r for wr in runs for r in wr.rss_mb), 1),
            "detail": {
                "cores": cores,
                "events": args.events,
                "alert_share": args.alert_share,
                "partitions": args.partitions,
                "half_rate_events_per_s": round(half.rate),
                "workers": [
                    {
                        "workers": wr.workers,
                        "events_per_s": round(wr.events_per_s),
                        "rss_mb": [round(r, 1) for r in wr.rss_mb],
                        "phases": [
                            {
                                "input_events_per_s": round(ph.rate),
                                **{
                                    s: {k: round(v, 2) for k, v in ph.pct(s).items()}
                                    for s in ("signal", "alert", "order")
                                },
                            }
                            for ph in wr.phases
                        ],
                    }
                    for wr in runs
                ],
                "scaling_2_vs_1": round(scaling, 3) if scaling else None,
            },
        }
        print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def add_bench_command(sub: Any) -> None:
    b = sub.add_parser(
        "bench",
        help="end-to-end benchmark: pipeline vs raw aiokafka, latency, 1 and 2 workers, RSS",
    )
    add_arguments(b)
    b.set_defaults(func=run)
