"""Cost of every registered detector kind: µs per event and state bytes per sensor.

Run from the repository root::

    .venv/bin/python -m benchmarks.detector_cost [--events 5000] [--repeat 3]

For each kind in :data:`streams.core.signals.detectors.REGISTRY` with a
``sample_params()`` classmethod (others are skipped with a note): build one
detector, feed it ``--events`` synthetic events (a noisy daily cycle every 5
minutes for sensor kinds; alternating department records for record kinds),
and time ``score_one`` + ``learn_one`` per event (best of ``--repeat`` runs).
The baseline row is the same loop around a no-op detector, measured in the
same run, so the difference is the detector's own cost. State size is
``len(json.dumps(state(), separators=(",", ":")))`` after the run: the bytes
one sensor (or place) costs in the changelog table. Budget: 4096 bytes, 15 µs.
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.baselines import Null
from streams.core.signals.detectors import REGISTRY
from streams.core.signals.detectors.base import Detector, Point, Record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def points(n: int, seed: int = 1) -> list[Point]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        v = 50 + 20 * math.sin(2 * math.pi * i / 288) + rnd.gauss(0, 2)
        if i % 997 == 500:
            v += 60
        out.append(Point(t=T0 + timedelta(minutes=5 * i), value=v, values={"value": v}))
    return out


def records(n: int, event_types: Sequence[str], seed: int = 1) -> list[Record]:
    rnd = random.Random(seed)
    return [
        Record(
            t=T0 + timedelta(minutes=17 * i),
            department="dept",
            event_type=event_types[i % len(event_types)],
            attributes={k: rnd.randint(1, 10) for k in ("x", "y", "value", "count", "n")},
            event_id=f"e{i}",
            subject_id="s1",
        )
        for i in range(n)
    ]


def time_loop(det: Detector[Any], xs: Sequence[Any], repeat: int) -> float:
    """Best µs per event of score_one + learn_one over ``repeat`` fresh runs."""
    best = math.inf
    state0 = det.state()
    for _ in range(repeat):
        det.load(state0)
        score, learn = det.score_one, det.learn_one
        t = time.perf_counter()
        for x in xs:
            score(x)
            learn(x)
        best = min(best, time.perf_counter() - t)
    return best / len(xs) * 1e6


def measure(events: int, repeat: int) -> tuple[list[dict[str, Any]], list[str]]:
    pts = points(events)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    base = time_loop(Null(), pts, repeat)
    rows.append({"kind": "(no-op baseline)", "us": base, "net_us": 0.0, "state_bytes": 2})
    for kind, cls in sorted(REGISTRY.items()):
        sample = getattr(cls, "sample_params", None)
        if not callable(sample):
            notes.append(f"{kind}: skipped (no sample_params() classmethod)")
            continue
        try:
            det = cls.from_params(sample(), 0)
            if cls.input == "record":
                types = sorted(getattr(det, "event_types", lambda: {"a", "b"})())
                xs: Sequence[Any] = records(events, types)
            else:
                xs = pts
            us = time_loop(det, xs, repeat)
            size = len(json.dumps(det.state(), separators=(",", ":")))
        except Exception as err:  # a benchmark reports, it does not stop
            notes.append(f"{kind}: skipped ({type(err).__name__}: {err})")
            continue
        rows.append({"kind": kind, "us": us, "net_us": us - base, "state_bytes": size})
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    rows, notes = measure(args.events, args.repeat)
    print(f"{args.events} events per kind, best of {args.repeat}; Python {sys.version.split()[0]}")
    print(f"{'kind':<18} {'µs/event':>9} {'net µs':>8} {'state B':>8}")
    for r in rows:
        print(f"{r['kind']:<18} {r['us']:9.2f} {r['net_us']:8.2f} {r['state_bytes']:8d}")
    for n in notes:
        print(f"note: {n}")
    print(json.dumps({"events": args.events, "rows": rows, "notes": notes}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
