"""``yujing simulate-equipment``: multi-channel pump stations with labelled faults, as CSVs.

(readings, offline: the ground truth for the multivariate detectors.) A pump
station's channels follow one physics, so they move together: demand sets the
pump's speed; flow follows speed and how far the discharge valve is open;
the head is the pump curve (speed² less the flow's friction); the motor current
follows hydraulic power; vibration and bearing temperature follow speed (the
physics is :func:`streams.tools.simulate.stations.pump_physics`, which the
district's pump stations share).
Each station runs ``days`` of one-minute rows with noise, then four kinds of
fault are put in at random times (each lasting hours, none overlapping):

* **valve closure**: the discharge valve sticks mostly closed: flow falls,
  the motor current falls with it, though demand (and the pump's speed) has not changed;
* **cavitation**: suction pressure sags (a low tank); flow and head fall and
  vibration rises, noisily;
* **sensor drift**: the flow meter's reading drifts away from the true flow (the
  physics goes on unchanged);
* **stuck sensor**: the discharge pressure reading freezes at its last value
  while everything else moves.

Every row inside a fault is labelled. Output: ``OUT/<station>.csv``
(``timestamp`` and the channels) and ``OUT/labels.json`` (file → windows, the
format ``yujing score-csv --labels`` reads).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from streams.tools.simulate.stations import pump_physics

CHANNELS = (
    "flow_m3h",
    "suction_kpa",
    "discharge_kpa",
    "current_a",
    "vibration_mm_s",
    "bearing_temp_c",
    "speed_rpm",
)
FAULTS = ("valve_closure", "cavitation", "sensor_drift", "stuck_sensor")
START = datetime(2026, 5, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Fault:
    kind: str
    start: int  # row
    end: int  # row, exclusive


def plan_faults(rng: random.Random, rows: int, warm: int, per_kind: int) -> list[Fault]:
    """``per_kind`` faults of each kind, 2-6 hours each, none overlapping, after ``warm``."""
    faults: list[Fault] = []
    kinds = [k for k in FAULTS for _ in range(per_kind)]
    rng.shuffle(kinds)
    for kind in kinds:
        for _ in range(1000):
            length = rng.randint(120, 360)
            start = rng.randint(warm, rows - length - 1)
            if all(start >= f.end + 240 or start + length + 240 <= f.start for f in faults):
                faults.append(Fault(kind, start, start + length))
                break
    return sorted(faults, key=lambda f: f.start)


def station_rows(
    seed: int, days: float, warm_days: float = 2.0, per_kind: int = 1
) -> tuple[list[dict[str, float]], list[Fault]]:
    """One station's rows (channels per minute) and its faults."""
    rng = random.Random(seed)
    rows = int(days * 1440)
    faults = plan_faults(rng, rows, int(warm_days * 1440), per_kind)
    at = {i: f for f in faults for i in range(f.start, f.end)}
    out: list[dict[str, float]] = []
    temp = 45.0
    stuck: float | None = None
    phase = rng.uniform(0, 2 * math.pi)
    for i in range(rows):
        day = i / 1440.0
        demand = 0.75 + 0.2 * math.sin(2 * math.pi * day + phase) + rng.gauss(0, 0.02)
        fault = at.get(i)
        kind = fault.kind if fault else None
        into = (i - fault.start) / (fault.end - fault.start) if fault else 0.0
        s = pump_physics(demand, kind, rng)
        flow, discharge, current = s["flow_m3h"], s["discharge_kpa"], s["current_a"]
        suction, vibration, speed = s["suction_kpa"], s["vibration_mm_s"], s["speed_rpm"]
        temp += (30.0 + 0.6 * current - temp) / 60.0
        flow_read = flow + rng.gauss(0, 3.0)
        if kind == "sensor_drift":
            flow_read += 120.0 * into  # the meter drifts off, up to 120 m³/h
        discharge_read = discharge + rng.gauss(0, 2.0)
        if kind == "stuck_sensor":
            stuck = stuck if stuck is not None else out[-1]["discharge_kpa"]
            discharge_read = stuck
        else:
            stuck = None
        out.append(
            {
                "flow_m3h": round(flow_read, 3),
                "suction_kpa": round(suction, 3),
                "discharge_kpa": round(discharge_read, 3),
                "current_a": round(current, 3),
                "vibration_mm_s": round(vibration, 4),
                "bearing_temp_c": round(temp + rng.gauss(0, 0.1), 3),
                "speed_rpm": round(speed + rng.gauss(0, 2.0), 2),
            }
        )
    return out, faults


def write_stations(out: Path, stations: int, days: float, seed: int) -> Path:
    """Write every station's CSV and the labels; the labels file's path."""
    out.mkdir(parents=True, exist_ok=True)
    labels: dict[str, list[list[str]]] = {}
    for s in range(stations):
        rows, faults = station_rows(seed * 1000 + s, days)
        name = f"station-{s + 1:02d}.csv"
        with (out / name).open("w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["timestamp", *CHANNELS])
            for i, row in enumerate(rows):
                w.writerow([_stamp(i), *(row[c] for c in CHANNELS)])
        labels[name] = [[_stamp(f.start), _stamp(f.end - 1)] for f in faults]
    path = out / "labels.json"
    path.write_text(json.dumps(labels, indent=1) + "\n")
    return path


def _stamp(i: int) -> str:
    return (START + timedelta(minutes=i)).isoformat()


def _run(args: argparse.Namespace) -> int:
    if args.stations < 1 or args.days < 3:
        print("yujing simulate-equipment: need --stations >= 1 and --days >= 3", file=sys.stderr)
        return 2
    labels = write_stations(Path(args.out), args.stations, args.days, args.seed)
    print(f"yujing simulate-equipment: {args.stations} stations → {args.out}; labels {labels}")
    return 0


def add_simulate_equipment_command(subparsers: Any) -> None:
    """Add ``simulate-equipment`` to the ``yujing`` command's subparsers."""
    p = subparsers.add_parser(
        "simulate-equipment",
        help="pump stations' multi-channel readings with labelled faults, as CSVs",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the CSVs and labels")
    p.add_argument("--stations", type=int, default=4)
    p.add_argument("--days", type=float, default=10.0, help="per station (>= 3: 2 are warm-up)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run)
