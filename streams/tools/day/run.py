"""``yujing district-day``: one command that runs a whole simulated day and reports it.

(**reading** → signal → alert → order → notification → **people** → **report**.)
It starts the broker (unless ``YUJING_KAFKA_BOOTSTRAP`` names one), the SMS and
voice stubs, two workers, and the simulator with its people; runs one day of
the district model on an accelerated clock (``--minutes`` of wall time for
``--hours`` of the district), shows the simulated time on a progress bar,
lets the workers finish, prints the daily report and, last, one JSON line
(:data:`streams.tools.day.outcome.KEYS`).

Before the day: the incidents are drawn (:mod:`streams.tools.simulate.mix`), the
detectors are warmed by the days before it (:mod:`streams.tools.simulate.history`, the
workers' ``YUJING_BASELINES``), and the workers' clock is set to the day's:
``YUJING_CLOCK_EPOCH`` the day's start at ``YUJING_CLOCK_ANCHOR`` (a moment
after the workers are started), ``YUJING_CLOCK_SPEED`` the acceleration,
``YUJING_CLOCK_UNTIL`` the day's end plus the last emergency stage and the
grace (``YUJING_SLA_GRACE_S``: three wall seconds of the clock, for updates
in flight), so every deadline that can fall due is judged and none after.
Topics carry ``YUJING_TOPIC_PREFIX`` (default: a fresh ``day<seed>-<time>.``);
on a configured broker they stay for inspection; a broker the command started
is stopped at the end unless ``--keep-broker``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streams.core.shared.config import ConfigError
from streams.tools.simulate.simulation import DEFAULT_START

if TYPE_CHECKING:
    from streams.runtime.kafka_security import KafkaSecurity

#: the wall seconds of grace for updates and verdicts in flight, and of lead for the workers
GRACE_WALL_S = 3.0
LEAD_WALL_S = 40.0
#: emergencies' last stage before the day's horizon: the arrival, 20 minutes after the order
LAST_STAGE = timedelta(minutes=20)


def add_district_day_command(sub: Any) -> None:
    p = sub.add_parser(
        "district-day",
        help="a whole simulated day of the district: broker, stubs, two workers, simulator "
        "and its people; the daily report and one JSON line",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", default=DEFAULT_START, help="the day's start, ISO-8601 with offset")
    p.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    p.add_argument("--minutes", type=float, default=10.0, help="wall minutes for those hours")
    p.add_argument("--incidents", type=float, default=800.0, help="single incidents a day")
    groups = (("regional", 2), ("industry", 2), ("trend", 1), ("comprehensive", 1), ("compound", 2))
    for kind, n in groups:
        p.add_argument(f"--{kind}", type=int, default=n, help=f"{kind} group incidents")
    p.add_argument("--history-days", type=float, default=5.0, help="days the detectors saw")
    p.add_argument("--towns", type=int, default=None, help="the first N towns (default: all)")
    p.add_argument("--communities", type=int, default=None, help="per town (default: all)")
    p.add_argument("--cells", type=int, default=None, help="per community (default: all)")
    p.add_argument("--sites", type=int, default=None, help="per community (default: all)")
    p.add_argument("--keep-broker", action="store_true", help="leave a broker it started running")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--html", type=Path, help="also write the report as a page")
    p.set_defaults(func=_district_day)


def _district_day(args: argparse.Namespace) -> int:
    from streams.core.shared.clock import parse_instant

    if not args.minutes > 0 or not args.hours > 0:
        raise ConfigError("district-day: --minutes and --hours must be > 0")
    start = parse_instant(args.start, "district-day: --start")
    return Day(args, start).run()


class Day:
    """One district day: its settings, processes, world and people."""

    def __init__(self, args: argparse.Namespace, start: datetime) -> None:
        from streams.runtime.settings import Settings

        self.args = args
        self.t0 = time.monotonic()
        self.start = start
        self.end = start + timedelta(hours=args.hours)
        self.speed = args.hours * 3600 / (args.minutes * 60)
        self.grace_s = GRACE_WALL_S * self.speed
        self.until = self.end + LAST_STAGE + timedelta(seconds=2 * self.grace_s)
        self.settings = Settings.from_env()
        self.configured = self.settings.given("kafka_bootstrap")
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.prefix = self.settings.topic_prefix or f"day{args.seed}-{stamp}."
        from streams.runtime.settings import default_data_dir

        self.dir = default_data_dir() / "district-day" / self.prefix.rstrip(".")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.err = sys.stderr

    def say(self, text: str) -> None:
        print(f"district-day: {text}", file=self.err, flush=True)

    # -- the whole day ------------------------------------------------------------------

    def run(self) -> int:
        from streams.dev.runner import Child

        broker = None
        bootstrap = self.settings.kafka_bootstrap
        if not self.configured:
            from streams.dev.broker import BrokerConfig, LocalBroker

            broker = LocalBroker(BrokerConfig.from_env())
            started = not broker.status().running
            bootstrap = broker.start()
            self.say(f"broker at {bootstrap}" + (" (started)" if started else " (running)"))
            if not started:
                broker = None  # not ours to stop
        from streams.runtime.reach import require_broker

        require_broker(bootstrap, security=self.settings.kafka_security)
        children: list[Child] = []
        try:
            world, people_ledger = self.prepare()
            children = self.start_processes(bootstrap)
            line = self.live(bootstrap, world, people_ledger)
        finally:
            for child in reversed(children):
                child.stop()
            if broker is not None and not self.args.keep_broker:
                broker.stop()
                self.say("broker stopped (--keep-broker keeps it)")
        print(json.dumps(line, ensure_ascii=False), flush=True)
        return 0

    def prepare(self) -> tuple[Any, Any]:
        """The world of the day, its incidents, and the baselines the workers start from."""
        from streams.core.shared.catalogue import load_catalogue
        from streams.core.signals import baseline
        from streams.tools.simulate import history
        from streams.tools.simulate.live import LiveWorld
        from streams.tools.simulate.mix import Mix, chance_per_hour
        from streams.tools.simulate.people import Ledger
        from streams.tools.simulate.simulation import Simulation
        from streams.tools.simulate.world import Slice, World, load_model

        a = self.args
        catalogue = load_catalogue(self.settings.catalogue)
        profiles = Simulation.profiles_for(catalogue)
        model = load_model(self.settings.district)
        world = World(model, Slice(a.towns, a.communities, a.cells, a.sites), kinds=set(profiles))
        mix = Mix(
            world,
            catalogue,
            profiles,
            random.Random(f"yujing-day:{a.seed}"),
            self.start,
            self.end,
            per_day=a.incidents,
        )
        incidents = mix.singles()
        chance = chance_per_hour(incidents, (self.end - self.start).total_seconds() / 3600)
        for kind in ("regional", "industry", "trend"):
            incidents += mix.groups(kind, getattr(a, kind), chance)
        for _ in range(a.comprehensive):
            incidents += mix.storm(chance.get(model.district.id, 0.0))
        incidents += mix.compound(a.compound)
        live = LiveWorld(world, catalogue, profiles, incidents, self.start, self.end, seed=a.seed)
        t = time.monotonic()
        past = history.History(self.start, days=a.history_days, seed=a.seed)
        baselines = history.learn(world, catalogue, live.devices, past)
        self.baselines_path = self.dir / "baselines.json"
        baseline.write(self.baselines_path, baselines)
        groups = sum(i.risk_kind != "single" for i in incidents)
        self.say(
            f"{len(world.sensors):,} sensors, {len(world.places):,} places; "
            f"{len(incidents) - groups:,} incidents and {groups} group incidents; detectors "
            f"warmed on {a.history_days:g} days of history in {time.monotonic() - t:.0f} s"
        )
        return live, Ledger(self.start, self.end)

    def env(self) -> dict[str, str]:
        anchor = datetime.now(UTC) + timedelta(seconds=LEAD_WALL_S)
        self.anchor = anchor
        return {
            "YUJING_TOPIC_PREFIX": self.prefix,
            "YUJING_CLOCK_EPOCH": self.start.isoformat(),
            "YUJING_CLOCK_ANCHOR": anchor.isoformat(),
            "YUJING_CLOCK_SPEED": repr(self.speed),
            "YUJING_CLOCK_UNTIL": self.until.isoformat(),
            # the workers start with the day: its first hour has no watched past
            "YUJING_OBSERVED_FROM": self.start.isoformat(),
            "YUJING_SLA_GRACE_S": repr(self.grace_s),
            "YUJING_BASELINES": str(self.baselines_path),
        }

    def start_processes(self, bootstrap: str) -> list[Any]:
        from streams.dev.runner import spawn, wait_http
        from streams.runtime.kafka_io import ensure_topics

        s = self.settings
        security = s.kafka_security
        ensure_topics(bootstrap, self.prefix, s.partitions, s.replication_factor, security=security)
        self.inputs_before = _inputs(bootstrap, self.prefix, security)
        env = {**self.env(), "YUJING_KAFKA_BOOTSTRAP": bootstrap}
        sms, voice = _port(s.sms_url), _port(s.voice_url)
        sinks = spawn(
            "sinks",
            [
                "sinks",
                "--sms-port",
                str(sms),
                "--voice-port",
                str(voice),
                "--voice-answered-by",
                "callee",
                "--voice-call-ms",
                "3000",
            ],
            env,
            self.dir,
        )
        children = [sinks]
        for i in range(2):
            wenv = {
                **env,
                "YUJING_WEB_PORT": str(s.web_port + i),
                "YUJING_DATA_DIR": str(self.dir / f"worker-{i}"),
            }
            children.append(
                spawn(f"worker-{i}", ["worker", "--loglevel", "warning"], wenv, self.dir)
            )
        wait_http(sinks, f"{s.sms_url.rstrip('/')}/healthz", timeout=30)
        for i, w in enumerate(children[1:]):
            wait_http(w, f"http://{s.web_host}:{s.web_port + i}/ready", timeout=180)
        late = (datetime.now(UTC) - self.anchor).total_seconds()
        self.say(
            f"stubs and two workers ready (topics prefixed {self.prefix!r}, logs in {self.dir})"
            + (f"; {late:.0f} s after the day began" if late > 0 else "")
        )
        return children

    def live(self, bootstrap: str, world: Any, ledger: Any) -> dict[str, Any]:
        from streams.core.shared.clock import ScaledClock
        from streams.tools.day.loop import DayLoop, Progress
        from streams.tools.day.people import People

        clock = ScaledClock(self.start, self.anchor, self.speed, until=self.until)
        wait = (self.anchor - datetime.now(UTC)).total_seconds()
        if wait > 0:
            time.sleep(wait)
        people = People(
            clock,
            ledger,
            world,
            _no_send,
            self.settings.sms_url.rstrip("/"),
            self.settings.voice_url.rstrip("/"),
            seed=self.args.seed,
        )
        loop = DayLoop(
            bootstrap,
            self.prefix,
            clock,
            self.until,
            world,
            people,
            Progress(self.start, self.end, self.err, enabled=not self.args.quiet),
            self.settings.kafka_security,
        )
        stats: dict[str, Any] = dict(asyncio.run(loop.run()))
        stats["people"] = dict(people.counts)
        self.say(
            f"the day is over: {stats['sent']:,} readings and records, "
            f"{stats['updates']:,} lifecycle updates; people: {people.counts}"
        )
        from streams.tools.day.report import finish

        return finish(self, bootstrap, world, ledger, stats)


async def _no_send(event: Any) -> None:  # replaced by the loop's producer
    raise RuntimeError("the people send through the day's loop")


def _inputs(bootstrap: str, prefix: str, security: KafkaSecurity) -> int:
    """Records already on the input topics (a prefix used before)."""
    from kafka import KafkaConsumer, TopicPartition

    from schemas.registry import DEPARTMENT_EVENTS, READINGS

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **security.kafka_python())
    try:
        parts = [
            TopicPartition(prefix + n, p)
            for n in (READINGS.name, DEPARTMENT_EVENTS.name)
            for p in sorted(consumer.partitions_for_topic(prefix + n) or ())
        ]
        return sum(consumer.end_offsets(parts).values()) if parts else 0
    finally:
        consumer.close()


def _port(url: str) -> int:
    from urllib.parse import urlsplit

    port = urlsplit(url).port
    if port is None:
        raise ConfigError(f"district-day: {url!r} names no port")
    return port


__all__ = ["Day", "add_district_day_command"]
