"""``yujing simulate``: the district model's places and sensors feed the first hops of the flow.

(**reading** / **department event** → signal → alert → order → notification.)
The world is the district model's (``YUJING_DISTRICT``, default
``streams/config/district.yaml``: Yuhang's 12 towns and streets, 150
communities, 1,500 grid cells, 3,000 sites of nine industries, 20,000+
sensors), or a slice of it (``--towns``, ``--communities``, ``--cells``,
``--sites``: the first N of each, or ``all``), so every simulated place is one
the rules roll up to its town, industry and district. Every sensor follows its
kind's daily profile, with noise and the occasional fault (stuck value,
dropout, spike); departments file records about places at a background rate.
Incidents are injected (a gas leak, a flooded underpass, an overcrowded rental
flat, ...; ``--regional`` and ``--industry``: one cause hitting many places of a
town or of an industry at once; ``--compound``: several modules' hazards at one
place within a compound rule's window), and their ground truth, with the faults, is
written alongside (:mod:`streams.tools.simulate`).

Output is deterministic for a seed, a start time, the slice and the model:
every id and value comes from random generators seeded from ``(seed, sensor)``.

**JSONL format** (what ``--out FILE`` writes, and what ``yujing replay`` reads):
one JSON object per line, in event-time order::

    {"topic": "yujing.readings.v1", "event": {...SensorReading as JSON...}}
    {"topic": "yujing.department-events.v1", "event": {...DepartmentEvent...}}

With ``--batch N`` readings go out as gateways upload them, up to N a record, on
``yujing.reading-batches.v1`` (:mod:`streams.tools.gateway`).

``topic`` is the registry topic name (no prefix); ``event`` is the event
exactly as it goes on that topic (``schemas.codec.encode``), so its Kafka key
is the topic's key field (``schemas.registry``). The ground truth goes to
``--truth`` (default: ``FILE`` with ``.truth.jsonl``): one JSON object per
line, ``{"type": "incident", ...}`` or ``{"type": "fault", ...}`` with ``id``,
the risk point and module (incidents) or the fault, ``place_id``, ``town``,
``community``, ``industry`` (``cell`` for a grid cell), ``sensor_id``,
``sensor_kind``, ``start``, ``end``; and ``grid_cell``, ``site_kind``,
``district``; incidents also ``risk_kind`` (``single``, ``regional``,
``industry``, ``compound``) and ``department`` (the module's), a group's members
``group``, a group ``members`` (its ``place_id`` is its town or industry; a
compound incident's is its place).

Pacing: ``--speed 1`` sends at recorded speed (one simulated second per wall
second), ``--speed 60`` sixty times faster, ``--speed 0`` (default) as fast as
``--rate`` (events per wall second; 0 = unlimited) allows. To run a worker on
the same simulated clock: ``YUJING_CLOCK_EPOCH=<start> YUJING_CLOCK_SPEED=<speed>``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from schemas import Event
from schemas.registry import spec_for
from streams.core.shared.clock import parse_instant
from streams.core.shared.config import ConfigError
from streams.tools.gateway import Batcher, batch_size
from streams.tools.simulate.simulation import DEFAULT_START, District, Simulation

# --------------------------------------------------------------------------- output


def jsonl_line(event: Event) -> str:
    """One line of the JSONL format (see the module docstring)."""
    spec = spec_for(event)
    return json.dumps(
        {"topic": spec.name, "event": event.model_dump(mode="json")},
        ensure_ascii=False,
        separators=(",", ":"),
    )


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a line per 10 % otherwise."""

    def __init__(self, total: int, stream: IO[str] | None = None, enabled: bool = True) -> None:
        self.total, self.stream, self.enabled = max(total, 1), stream or sys.stderr, enabled
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = -1

    def update(self, done: int, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        decile = min(10, done * 10 // self.total)
        if not final and (now - self._last_draw < 0.1 if self.tty else decile == self._last_decile):
            return
        self._last_draw, self._last_decile = now, decile
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        frac = min(1.0, done / self.total)
        bar = "#" * int(frac * 30) + "." * (30 - int(frac * 30))
        eta = (self.total - done) / rate if rate > 0 and done < self.total else 0.0
        text = f"[{bar}] {frac:4.0%} {done:,}/{self.total:,} events  {rate:,.0f}/s  ETA {eta:,.0f}s"
        if final:
            self.total = max(done, 1)
            frac = 1.0
            bar = "#" * 30
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


class Pacer:
    """Waits so that events leave at event time / ``speed`` and at most ``rate`` per second."""

    def __init__(
        self,
        start: datetime,
        speed: float,
        rate: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.start, self.speed, self.rate = start, speed, rate
        self.sleep, self.clock = sleep, clock
        self.t0 = clock()
        self.sent = 0

    def wait(self, event_time: datetime) -> None:
        due = self.t0
        if self.speed > 0:
            due = max(due, self.t0 + (event_time - self.start).total_seconds() / self.speed)
        if self.rate > 0:
            due = max(due, self.t0 + self.sent / self.rate)
        delay = due - self.clock()
        if delay > 0.001:
            self.sleep(delay)
        self.sent += 1


def run(
    sim: Simulation,
    emit: Callable[[Event], None],
    *,
    speed: float = 0.0,
    rate: float = 0.0,
    progress: Progress | None = None,
    batch: int = 0,
    partitions: int = 1,
) -> int:
    """Emit the simulation's events, paced; with ``batch``, readings go out in gateway
    batches of up to that many (:mod:`streams.tools.gateway`). Returns the events made."""
    pacer = Pacer(sim.d.start, speed, rate)
    gateways = Batcher(partitions, batch, gateway_id="yujing-simulate") if batch else None
    n = 0
    for event in sim.events():
        pacer.wait(event.event_time)
        for ready in gateways.add(event) if gateways is not None else (event,):
            emit(ready)
        n += 1
        if progress is not None:
            progress.update(n)
    for ready in gateways.flush() if gateways is not None else ():
        emit(ready)
    if progress is not None:
        progress.update(n, final=True)
    return n


# --------------------------------------------------------------------------- command


def add_simulate_command(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="the district model's sensors and department records, with incidents → Kafka or JSONL",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="write JSONL here ('-' = stdout)")
    where.add_argument(
        "--kafka",
        action="store_true",
        help="produce to Kafka ($YUJING_KAFKA_BOOTSTRAP, topics with $YUJING_TOPIC_PREFIX)",
    )
    p.add_argument("--truth", type=Path, help="ground truth JSONL (default: next to --out)")
    p.add_argument(
        "--district",
        type=Path,
        help="district model (default: $YUJING_DISTRICT, else the built-in)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", default=DEFAULT_START, help="ISO-8601 with offset, or 'now'")
    p.add_argument("--hours", type=float, default=6.0, help="simulated duration")
    p.add_argument("--interval-s", type=float, default=60.0, help="seconds between readings")
    p.add_argument("--towns", type=_count, default=2, help="the first N towns, or 'all'")
    p.add_argument("--communities", type=_count, default=3, help="per town (N or 'all')")
    p.add_argument("--cells", type=_count, default=2, help="grid cells per community (N or 'all')")
    p.add_argument("--sites", type=_count, default=7, help="sites per community (N or 'all')")
    p.add_argument("--incidents", type=int, default=12)
    p.add_argument("--regional", type=int, default=0, help="group incidents across one town")
    p.add_argument("--industry", type=int, default=0, help="group incidents across one industry")
    p.add_argument(
        "--compound", type=int, default=0, help="compound incidents: several modules at one place"
    )
    p.add_argument("--fault-rate", type=float, default=0.05, help="share of sensors with a fault")
    p.add_argument("--records-per-place-day", type=float, default=1.0)
    p.add_argument(
        "--speed", type=float, default=0.0, help="1 = recorded speed, 60 = 60x, 0 = no pacing"
    )
    p.add_argument("--rate", type=float, default=0.0, help="max events per wall second (0: none)")
    p.add_argument(
        "--batch",
        type=batch_size,
        default=0,
        metavar="N",
        help="readings in gateway batches of up to N (1-500) on yujing.reading-batches.v1 "
        "(default 0: one record each)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_simulate)


def _count(raw: str) -> int | None:
    """A slice size: a whole number, or ``all`` (None)."""
    if raw.strip().lower() == "all":
        return None
    try:
        return int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r}: a number or 'all'") from None


def _parse_start(raw: str) -> datetime:
    if raw == "now":
        return datetime.now(UTC).replace(microsecond=0)
    return parse_instant(raw, "simulate: --start")


def _simulate(args: argparse.Namespace) -> int:
    from streams.core.shared.catalogue import load_catalogue
    from streams.runtime.settings import Settings
    from streams.tools.simulate.world import load_model

    if args.speed < 0 or args.rate < 0:
        raise ConfigError("simulate: --speed and --rate must be >= 0")
    district = District(
        towns=args.towns,
        communities=args.communities,
        cells=args.cells,
        sites=args.sites,
        hours=args.hours,
        interval_s=args.interval_s,
        incidents=args.incidents,
        regional=args.regional,
        industry=args.industry,
        compound=args.compound,
        fault_rate=args.fault_rate,
        records_per_place_day=args.records_per_place_day,
        seed=args.seed,
        start=_parse_start(args.start),
    )
    district.check()
    settings = Settings.from_env()
    catalogue = load_catalogue(settings.catalogue)
    sim = Simulation(district, catalogue, load_model(args.district or settings.district))
    info = sim.summary()
    err = sys.stderr
    print(
        "yujing simulate: "
        + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in info.items())
        + f"; {district.start.isoformat()} + {district.hours:g} h",
        file=err,
    )
    if info["compound_incidents"] < district.compound:
        print(
            f"yujing simulate: only {info['compound_incidents']} of {district.compound} "
            "compound incidents fit this slice (each needs one place with prompt sources "
            "in enough of a compound rule's modules)",
            file=err,
        )
    for kind in ("regional", "industry"):
        if info[f"{kind}_incidents"] < getattr(district, kind):
            print(
                f"yujing simulate: only {info[f'{kind}_incidents']} of {getattr(district, kind)} "
                f"{kind} incidents fit this slice (each needs more places of one "
                f"{'town' if kind == 'regional' else 'industry'} than its rule's min_places)",
                file=err,
            )
    truth_path = args.truth
    if truth_path is None and args.out is not None and str(args.out) != "-":
        truth_path = args.out.with_suffix(".truth.jsonl")
    if truth_path is not None:
        truth_path.write_text("".join(json.dumps(t) + "\n" for t in sim.truth()), encoding="utf-8")
        print(f"ground truth: {truth_path}", file=err)
    total = info["readings"] + sum(1 for _ in sim.records())
    progress = Progress(total, err, enabled=not args.quiet)
    if args.out is not None:
        with contextlib.ExitStack() as stack:
            out: IO[str] = (
                sys.stdout
                if str(args.out) == "-"
                else stack.enter_context(open(args.out, "w", encoding="utf-8"))
            )
            n = run(
                sim,
                lambda e: print(jsonl_line(e), file=out),
                speed=args.speed,
                rate=args.rate,
                progress=progress,
                batch=args.batch,
                partitions=settings.partitions,
            )
        print(f"wrote {n:,} events to {args.out}", file=err)
        return 0
    from streams.runtime.kafka_io import Producer, ensure_topics

    bootstrap = settings.kafka_bootstrap
    security = settings.kafka_security
    ensure_topics(
        bootstrap,
        settings.topic_prefix,
        settings.partitions,
        settings.replication_factor,
        security=security,
    )
    producer = Producer(bootstrap, settings.topic_prefix, security=security)
    print(
        f"producing to {bootstrap} (prefix {settings.topic_prefix!r}); a worker on the same "
        f"clock: YUJING_CLOCK_EPOCH={district.start.isoformat()} "
        f"YUJING_CLOCK_SPEED={args.speed or 1:g}",
        file=err,
    )
    try:
        n = run(
            sim,
            producer.send,
            speed=args.speed,
            rate=args.rate,
            progress=progress,
            batch=args.batch,
            partitions=settings.partitions,
        )
        producer.flush()
    finally:
        producer.close()
    print(f"produced {n:,} events", file=err)
    return 0


__all__ = ["District", "Simulation", "add_simulate_command", "jsonl_line"]
