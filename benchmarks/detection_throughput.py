"""Events per second through the detection agent on one worker, on the real broker.

Against a baseline measured in the same run on the same records: a bare
aiokafka consume → produce passthrough (see ``benchmarks.common``).

    python -m benchmarks.detection_throughput [--events 20000] [--sensors 500] [--json]

It uses ``YUJING_KAFKA_BOOTSTRAP`` or starts the local KRaft broker.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from benchmarks.common import Poll, bootstrap, raw_passthrough_rate, security
from benchmarks.stack import scrape
from schemas import SensorReading
from schemas.registry import READINGS
from streams.core.shared.catalogue import load_catalogue
from streams.dev.broker import find_free_port
from streams.dev.runner import spawn, wait_http
from streams.runtime.kafka_io import Producer, ensure_topics
from streams.runtime.settings import Settings


def readings(n: int, sensors: int, seed: int) -> list[SensorReading]:
    catalogue = load_catalogue()
    normal: dict[str, float] = {}
    for rp in catalogue.risk_points:
        kind = rp.source.sensor_kind
        if kind is None:
            continue
        # quiet values: the benchmark measures detection, not notification
        p = rp.detector.params
        normal[kind] = float(p.get("clear", p.get("upper", 1.0))) if "upper" in p else 1.0
    kinds = sorted(normal)
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        s = i % sensors
        kind = kinds[s % len(kinds)]
        out.append(
            SensorReading(
                reading_id=f"b{i}",
                sensor_id=f"{kind}-{s}",
                sensor_kind=kind,
                place_id=f"cell.{s % 50}",
                value=normal[kind] * (1 + 0.01 * math.sin(i / 50)) + rng.gauss(0, 1e-4),
                event_time=t0 + timedelta(seconds=10 * i),
            )
        )
    return out


def events_in(web: str, token: SecretStr | None = None) -> float:
    for line in scrape(web, token).splitlines():
        if line.startswith(f'yujing_events_in_total{{topic="{READINGS.name}"}} '):
            return float(line.split()[-1])
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--sensors", type=int, default=500)
    ap.add_argument("--partitions", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    bs = bootstrap()
    run = uuid.uuid4().hex[:8]
    prefix = f"bench-{run}."
    ensure_topics(bs, prefix, args.partitions, security=security())
    producer = Producer(bs, prefix, security=security())
    producer.send_all(readings(args.events, args.sensors, args.seed))
    producer.close()

    baseline = raw_passthrough_rate(
        bs, prefix + READINGS.name, prefix + "passthrough", args.events, f"bench-raw-{run}"
    )

    web_port = find_free_port()
    logs = Path(tempfile.mkdtemp(prefix="yujing-bench-"))
    env = {
        "YUJING_KAFKA_BOOTSTRAP": bs,
        "YUJING_APP_ID": f"bench-{run}",
        "YUJING_TOPIC_PREFIX": prefix,
        "YUJING_PARTITIONS": str(args.partitions),
        "YUJING_WEB_PORT": str(web_port),
        "YUJING_DATA_DIR": str(logs / "worker"),
    }
    worker = spawn("worker", ["worker", "--loglevel", "warning"], env, logs)
    web = f"http://127.0.0.1:{web_port}"
    token = Settings.from_env({**os.environ, **env}).metrics_token  # the worker's
    try:
        wait_http(worker, f"{web}/ready", timeout=120)
        first_t, first_n = None, 0.0
        deadline = time.monotonic() + 600
        poll = Poll()
        while time.monotonic() < deadline:
            n = events_in(web, token)
            if n > 0 and first_t is None:
                first_t, first_n = time.perf_counter(), n
            if n >= args.events:
                break
            time.sleep(poll.interval(n, args.events))
        end_t = time.perf_counter()
        assert first_t is not None and n >= args.events, f"worker processed {n} of {args.events}"
        pipeline = (args.events - first_n) / (end_t - first_t)
    finally:
        worker.stop()

    ratio = pipeline / baseline
    print(
        f"events                       {args.events:>10,}  ({args.sensors} sensors, "
        f"{args.partitions} partitions)"
    )
    print(f"raw aiokafka passthrough     {baseline:>10,.0f} events/s (baseline, same run)")
    print(f"detect agent, one worker     {pipeline:>10,.0f} events/s")
    print(f"ratio                        {ratio:>10.2f}")
    if args.json:
        print(
            json.dumps(
                {
                    "events": args.events,
                    "baseline_events_per_s": round(baseline),
                    "detect_events_per_s": round(pipeline),
                    "ratio": round(ratio, 3),
                }
            )
        )


if __name__ == "__main__":
    main()
