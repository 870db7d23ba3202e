"""Cost of one SLA clock tick against the number of open orders.

Run from the repository root::

    .venv/bin/python -m benchmarks.sla_ticks [--orders 1000,10000,100000] [--repeat 5]

A partition's orders are opened at random times over the past 7 days (one in
five emergency, the rest non-emergency; a tenth auto-disposal with a re-check
in the next hour), and every deadline already past is marked breached, as the
agent leaves them. Then one tick, one second later, is timed two ways in the
same run:

* **scan** (the baseline: what every tick did before ``streams.core.orders.due``, and
  what the index build does once per assignment): validate every record and
  run ``lifecycle.on_tick`` on it;
* **index**: ``DueIndex.due`` and ``on_tick`` on the orders it returns.

Both must find the same orders with work (checked). The per-tick cost is time
the worker's event loop processes no reading: the tick runs once a second per
partition. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas import Channel, DispatchOrder, SlaClass
from schemas.order import AutoDisposalPlan
from streams.core.orders import lifecycle, sla
from streams.core.orders.due import DueIndex
from streams.core.orders.lifecycle import OrderRecord

NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def open_records(n: int, seed: int) -> list[dict[str, object]]:
    """``n`` records as the table holds them (JSON dicts), past breaches marked."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        opened = NOW - timedelta(seconds=rng.uniform(0, 7 * 86400))
        cls = SlaClass.EMERGENCY if rng.random() < 0.2 else SlaClass.NON_EMERGENCY
        auto = rng.random() < 0.1
        order = DispatchOrder(
            order_id=f"order-{i}",
            alert_id=f"alert-{i}",
            route="bench",
            receiver=f"grid.cell.linping.c01.{i % 9 + 1:02d}",
            assignee_role="grid_worker",
            department="water",
            town="linping",
            channels=[Channel.SMS],
            sla_class=cls,
            deadlines=sla.deadlines(cls, opened),
            summary="bench",
            escalate_to="town.linping",
            auto_disposal=AutoDisposalPlan(
                party_concerned=f"party.site.linping.c01.rental-flat-{i % 9 + 1:02d}",
                sensor_ids=["s1"],
                risk_point="river_level_high",
                healthy_readings=3,
                recheck_at=NOW + timedelta(seconds=rng.uniform(1, 3600)),
            )
            if auto
            else None,
            event_time=opened,
        )
        rec = lifecycle.open_order(order, 0, opened).record
        assert rec is not None
        marked = lifecycle.on_tick(rec, NOW).record  # past deadlines: breached
        rec = rec if marked is None else marked
        out.append(rec.to_json())
    return out


def scan_tick(raws: list[dict[str, object]], now: datetime) -> list[str]:
    work = []
    for raw in raws:
        rec = OrderRecord.model_validate(raw)
        if lifecycle.on_tick(rec, now).record is not None:
            work.append(rec.order_id)
    return work


def index_tick(index: DueIndex, table: dict[str, dict[str, object]], now: datetime) -> list[str]:
    work = []
    for order_id in index.due(0, now):
        rec = OrderRecord.model_validate(table[order_id])
        if lifecycle.on_tick(rec, now).record is not None:
            work.append(order_id)
    return work


def best_ms(fn: object, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t)
    return best * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rows = []
    now = NOW + timedelta(seconds=1)
    print(f"{'open orders':>12}{'scan ms':>10}{'index ms':>10}{'ratio':>8}{'due':>6}")
    for n in (int(x) for x in args.orders.split(",")):
        raws = open_records(n, args.seed)
        table = {str(r["order_id"]): r for r in raws}
        index = DueIndex()
        index.build(0, (OrderRecord.model_validate(r) for r in raws))
        assert sorted(scan_tick(raws, now)) == sorted(index_tick(index, table, now))
        scan = best_ms(lambda raws=raws: scan_tick(raws, now), args.repeat)
        indexed = best_ms(lambda i=index, t=table: index_tick(i, t, now), args.repeat)
        due = len(index.due(0, now))
        print(f"{n:>12,}{scan:>10.2f}{indexed:>10.3f}{scan / indexed:>8.0f}{due:>6}")
        rows.append(
            {"open_orders": n, "scan_ms": round(scan, 3), "index_ms": round(indexed, 4), "due": due}
        )
    print(json.dumps({"ticks": rows}))


if __name__ == "__main__":
    main()
