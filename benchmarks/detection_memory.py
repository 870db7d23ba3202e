"""Per-sensor detector state and the RSS of 100,000 sensors' state in one process.

Target (issue 3): at most 4 KB of state per sensor, so that 100,000 sensors fit
in one worker within 1 GiB RSS. The worker keeps each sensor's state as one
compact JSON string in its table (``streams.core.signals.detect``), so this measures
exactly that: warm a realistic state for every sensor kind of the default
catalogue, then hold 100,000 distinct state strings keyed by sensor id, as
Faust's in-memory table store does, and report the RSS growth against the
process's own RSS before (the baseline, measured in the same run).

    python -m benchmarks.detection_memory [--sensors 100000] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import resource
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas import SensorReading
from streams.core.shared.catalogue import load_catalogue
from streams.core.signals.detect import Detection


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; falls back to peak RSS)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def warm_states(readings_per_sensor: int, seed: int) -> dict[str, str]:
    """One warmed-up state per sensor kind of the default catalogue."""
    catalogue = load_catalogue()
    detection = Detection(catalogue)
    rng = random.Random(seed)
    kinds = sorted({rp.source.sensor_kind for rp in catalogue.risk_points if rp.source.sensor_kind})
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    states: dict[str, str] = {}
    for kind in kinds:
        state: str | None = None
        for i in range(readings_per_sensor):
            value = 1.0 + 0.2 * math.sin(i / 20) + rng.gauss(0, 0.02)
            r = SensorReading(
                reading_id=f"{kind}-{i}",
                sensor_id=f"{kind}-0",
                sensor_kind=kind,
                place_id="cell.bench",
                value=value,
                event_time=t0 + timedelta(minutes=10 * i),
            )
            state, _ = detection.on_reading(r, state, t0)
        assert state is not None
        states[kind] = state
    return states


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sensors", type=int, default=100_000)
    ap.add_argument("--readings", type=int, default=400, help="warm-up readings per sensor kind")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()

    per_kind = warm_states(args.readings, args.seed)
    sizes = {k: len(v.encode()) for k, v in per_kind.items()}
    kinds = sorted(per_kind)
    gc.collect()
    baseline = rss_mb()
    table: dict[str, str] = {}
    for i in range(args.sensors):
        kind = kinds[i % len(kinds)]
        # a distinct string per sensor (no sharing), as after real traffic
        table[f"{kind}-{i:07d}"] = per_kind[kind].replace('"g":', f'"g{i % 10}":', 1)
    gc.collect()
    after = rss_mb()
    growth = after - baseline
    per_sensor_rss = growth * 1024 * 1024 / args.sensors
    print(f"{'sensor kind':<26} {'state bytes':>11}")
    for k in kinds:
        print(f"{k:<26} {sizes[k]:>11}")
    print()
    print(f"max state per sensor      {max(sizes.values()):>8} B   (target <= 4096 B)")
    print(f"mean state per sensor     {sum(sizes.values()) / len(sizes):>8.0f} B")
    print(f"process RSS before table  {baseline:>8.1f} MiB (baseline, same run)")
    print(f"RSS with {args.sensors:,} sensors {after:>8.1f} MiB")
    print(f"growth per sensor         {per_sensor_rss:>8.0f} B   (RSS, incl. dict and key)")
    projected = baseline + per_sensor_rss * 100_000 / 1024 / 1024
    print(f"projected at 100,000      {projected:>8.1f} MiB (target <= 1024 MiB)")
    if args.json:
        print(
            json.dumps(
                {
                    "sensors": args.sensors,
                    "state_bytes_max": max(sizes.values()),
                    "state_bytes_by_kind": sizes,
                    "rss_baseline_mb": round(baseline, 1),
                    "rss_mb": round(after, 1),
                    "rss_bytes_per_sensor": round(per_sensor_rss),
                    "projected_rss_mb_100k": round(projected, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
