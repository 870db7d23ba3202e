"""The ``yujing`` command: one entry point, each subcommand imported only when it runs.

Outside the event flow: it starts the pieces that carry it (broker, worker,
sinks) and the tools around it. ``yujing --help`` imports nothing but this
module; ``yujing worker --help`` imports only the worker's command module, so
an installation without the development or benchmark packages (the Docker
image) still answers. Errors the user can act on are one line, never a traceback:
a bad configuration names the file or variable, an unreachable broker says where, a
broker that refuses this client (its login, its certificate) says why.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING

from streams.core.shared.config import ConfigError

if TYPE_CHECKING:
    from streams.runtime.settings import Settings

#: name → (module, function adding the subcommand, one line of help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "worker": (
        "streams.runtime.worker",
        "add_worker_command",
        "run a pipeline worker (Faust); settings from YUJING_* env",
    ),
    "sinks": ("streams.dev.sinks.command", "add_sinks_command", "run the SMS and voice stubs"),
    "broker": (
        "streams.dev.broker.cli",
        "add_broker_commands",
        "the local Kafka broker: install, start, stop, status",
    ),
    "demo": (
        "streams.tools.demo",
        "add_demo_command",
        "broker + sinks + worker, sample readings, results printed",
    ),
    "simulate": (
        "streams.tools.simulate.command",
        "add_simulate_command",
        "a synthetic district's readings and records, to a file or the topics",
    ),
    "simulate-equipment": (
        "streams.tools.simulate.equipment",
        "add_simulate_equipment_command",
        "pump stations' multi-channel readings with labelled faults, as CSVs",
    ),
    "replay": ("streams.tools.replay", "add_replay_command", "publish a JSONL file to the topics"),
    "tail": ("streams.tools.tail", "add_tail_command", "follow a topic, filtered, readable"),
    "map": ("streams.tools.map", "add_map_command", "the risk map merged from every worker"),
    "console": (
        "streams.tools.console",
        "add_console_command",
        "the operator console (web page) over every worker",
    ),
    "report": ("streams.tools.report.command", "add_report_command", "the daily report"),
    "district": (
        "streams.tools.district",
        "add_district_command",
        "the district model: generate, check, show",
    ),
    "district-day": (
        "streams.tools.day.run",
        "add_district_day_command",
        "a whole simulated day: broker, stubs, two workers, the people; report and JSON",
    ),
    "score-csv": (
        "streams.tools.score_csv",
        "add_score_csv_command",
        "score a CSV time series with a catalogue detector",
    ),
    "schemas": (
        "streams.tools.schemas",
        "add_schemas_command",
        "regenerate the JSON Schemas and the AsyncAPI document",
    ),
    "bench": (
        "benchmarks.e2e",
        "add_bench_command",
        "end-to-end benchmark: pipeline vs raw aiokafka, latency, RSS",
    ),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser, with the real arguments of the subcommand named in ``argv`` only."""
    parser = argparse.ArgumentParser(
        prog="yujing",
        description="yujing: city sensor readings → early warnings → closed-loop work.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((a for a in (argv if argv is not None else sys.argv[1:]) if a[:1] != "-"), None)
    for name, (module, adder, help_text) in COMMANDS.items():
        if name != chosen:
            sub.add_parser(name, help=help_text)  # listed; its arguments load when it runs
            continue
        try:
            add = getattr(importlib.import_module(module), adder)
        except ModuleNotFoundError as err:
            parser.exit(2, f"yujing {name}: not installed here ({err.name} is missing)\n")
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    return run_reporting_errors(args)


def run_reporting_errors(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError

    from streams.runtime.reach import (
        BrokerRefused,
        BrokerUnreachable,
        OneLineError,
        login_refusal,
        require_broker,
    )

    broker_errors: tuple[type[Exception], ...] = ()
    try:
        from streams.dev.broker import BrokerError

        broker_errors = (BrokerError,)
    except ModuleNotFoundError:  # an installation without development infrastructure
        pass
    try:
        needed = _needs_broker(args)
        if needed is not None:  # one line within seconds, before any work starts
            require_broker(needed.kafka_bootstrap, security=needed.kafka_security)
        return int(args.func(args))
    except ConfigError as err:
        print(f"yujing {args.command}: configuration error:\n{err}", file=sys.stderr)
        return 2
    except OneLineError as err:
        print(f"yujing {args.command}: {err}", file=sys.stderr)
        return err.exit_code
    except (KafkaTimeoutError, KafkaConnectionError, NodeNotReadyError) as err:
        # the broker answered the start-up probe and went away afterwards
        print(
            f"yujing {args.command}: broker not reachable at {_bootstrap_of(args)} "
            f"({type(err).__name__})",
            file=sys.stderr,
        )
        return BrokerUnreachable.exit_code
    except broker_errors as err:
        print(f"yujing {args.command}: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # a login refused after the start-up probe
        why = login_refusal(err, _settings_of(args).kafka_security)
        if not why:
            raise
        print(f"yujing {args.command}: {BrokerRefused(_bootstrap_of(args), why)}", file=sys.stderr)
        return BrokerRefused.exit_code


def _needs_broker(args: argparse.Namespace) -> Settings | None:
    """The settings of the broker a command is about to use (its address and how to log
    in), if it uses one it does not start itself."""
    from streams.runtime.settings import Settings

    # (replay checks its file first, then the broker: a bad file needs no broker to say so)
    if args.command in ("worker", "tail", "report") or (
        args.command == "simulate" and getattr(args, "kafka", False)
    ):
        return Settings.from_env(kafka_bootstrap=getattr(args, "bootstrap", None))
    if args.command in ("demo", "bench") and not getattr(args, "secure", False):
        settings = Settings.from_env()  # unless named, they start the local broker
        return settings if settings.given("kafka_bootstrap") else None
    return None


def _settings_of(args: argparse.Namespace) -> Settings:
    """The command's settings; the defaults if they do not load (said elsewhere)."""
    from streams.runtime.settings import Settings

    try:
        return Settings.from_env(kafka_bootstrap=getattr(args, "bootstrap", None))
    except ConfigError:
        return Settings()


def _bootstrap_of(args: argparse.Namespace) -> str:
    if getattr(args, "bootstrap", None):
        return str(args.bootstrap)
    from streams.runtime.settings import Settings

    try:
        return Settings.from_env().kafka_bootstrap
    except ConfigError:
        return "the configured address"


if __name__ == "__main__":
    sys.exit(main())
