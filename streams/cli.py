"""The ``yujing`` command: broker, worker, sinks, demo, schemas.

Outside the event flow: it starts the pieces that carry it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import TYPE_CHECKING

from streams.core.shared.config import ConfigError
from streams.dev.broker.cli import add_broker_commands
from streams.tools.district import add_district_command
from streams.tools.map import add_map_command
from streams.tools.replay import add_replay_command
from streams.tools.report.command import add_report_command
from streams.tools.score_csv import add_score_csv_command
from streams.tools.simulate.command import add_simulate_command
from streams.tools.tail import add_tail_command

if TYPE_CHECKING:
    import faust


def _worker(args: argparse.Namespace) -> int:
    from streams.runtime.app import create_pipeline
    from streams.runtime.provision import prepare_worker
    from streams.runtime.settings import Settings

    settings = Settings.from_env(web_port=args.web_port, web_host=args.web_host)
    pipe = create_pipeline(settings)
    created = prepare_worker(pipe)  # broker, data directory, topics: before Faust starts
    print(
        f"yujing worker: broker {settings.kafka_bootstrap}, group {settings.faust_id}, "
        f"topics prefixed {settings.topic_prefix!r} ({len(created)} created), "
        f"data in {settings.data_path}",
        file=sys.stderr,
        flush=True,
    )
    make_worker(pipe.app, args.loglevel).execute_from_commandline()
    return 0


def make_worker(app: faust.App, loglevel: str) -> faust.Worker:
    """A Faust worker for ``app`` without Faust's terminal spinner.

    At a log level of WARNING or above, Faust keeps a progress spinner and, to feed
    it, sets the root logger to DEBUG: every debug line of aiokafka and Faust then
    builds a log record (about 5 % of a busy worker's time, measured with py-spy)
    even though nothing is printed. Without the spinner, the root logger keeps the
    level asked for.
    """
    import faust

    worker = faust.Worker(app, loglevel=loglevel)
    worker.spinner = None
    return worker


def _sinks(args: argparse.Namespace) -> int:
    from streams.dev.sinks.provider import ProviderConfig, StubProvider, VoiceStub, serve

    if args.sms_port is None or args.voice_port is None:
        from streams.runtime.settings import Settings

        settings = Settings.from_env()  # the worker's YUJING_SMS_URL / YUJING_VOICE_URL
        args.sms_port = args.sms_port or _port_of(settings.sms_url, "YUJING_SMS_URL")
        args.voice_port = args.voice_port or _port_of(settings.voice_url, "YUJING_VOICE_URL")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        outcomes = {
            name.strip(): float(weight)
            for name, weight in (part.split("=", 1) for part in args.voice_outcomes.split(","))
        }
        sms = StubProvider(
            ProviderConfig(
                channel="sms",
                latency_ms=args.sms_latency_ms,
                failure_rate=args.sms_failure_rate,
                lost_response_rate=args.lost_response_rate,
                seed=args.seed,
            )
        )
        voice = VoiceStub(
            ProviderConfig(
                channel="voice",
                latency_ms=args.voice_latency_ms,
                failure_rate=args.voice_failure_rate,
                lost_response_rate=args.lost_response_rate,
                seed=args.seed,
                call_ms=args.voice_call_ms,
                outcomes=outcomes,
            )
        )
    except ValueError as err:
        raise ConfigError(f"sinks: {err}") from None
    from streams.runtime.reach import require_free_port

    require_free_port(args.host, args.sms_port, "the SMS stub (--sms-port)")
    require_free_port(args.host, args.voice_port, "the voice stub (--voice-port)")
    print(
        f"yujing sinks: SMS stub on http://{args.host}:{args.sms_port}, "
        f"voice stub on http://{args.host}:{args.voice_port}",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve({args.sms_port: sms, args.voice_port: voice}, host=args.host))
    return 0


def _port_of(url: str, variable: str) -> int:
    """The port of a provider URL, so the stubs listen where the worker will call them.

    >>> _port_of("http://127.0.0.1:8801/", "YUJING_SMS_URL")
    8801
    """
    import urllib.parse

    try:
        port = urllib.parse.urlsplit(url).port
    except ValueError as err:
        raise ConfigError(f"{variable}={url!r}: {err}") from None
    if port is None:
        raise ConfigError(f"{variable}={url!r}: give the port, e.g. http://127.0.0.1:8701")
    return port


def _demo(args: argparse.Namespace) -> int:
    import os

    from streams.dev.broker import BrokerConfig, LocalBroker
    from streams.tools import demo

    bootstrap = os.environ.get("YUJING_KAFKA_BOOTSTRAP")
    config = BrokerConfig.from_env()
    if bootstrap:
        print(f"• using the broker at {bootstrap} (YUJING_KAFKA_BOOTSTRAP)")
    else:
        print(f"• starting the local Kafka broker in {config.home} (first run fetches jars)…")
        bootstrap = LocalBroker(config).start()
        print(f"• broker answering at {bootstrap} (stop it with: yujing broker stop)")
    return demo.run(bootstrap, config.home, args.sms_port, args.web_port, args.voice_port)


def _schemas(args: argparse.Namespace) -> int:
    from schemas import asyncapi
    from schemas.export import write

    for path in write():
        print(path)
    print(asyncapi.write())
    return 0


def _bench(args: argparse.Namespace) -> int:
    from benchmarks import e2e

    return e2e.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yujing",
        description="yujing: city sensor readings → early warnings → closed-loop work.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_broker_commands(sub)
    add_score_csv_command(sub)
    add_simulate_command(sub)
    add_district_command(sub)
    add_tail_command(sub)
    add_map_command(sub)
    add_replay_command(sub)
    add_report_command(sub)

    w = sub.add_parser("worker", help="run a pipeline worker (Faust); settings from YUJING_* env")
    w.add_argument(
        "--web-port", type=int, help="metrics/ready port (default $YUJING_WEB_PORT or 6066)"
    )
    w.add_argument("--web-host", help="bind address (default $YUJING_WEB_HOST or 127.0.0.1)")
    w.add_argument("--loglevel", default="info")
    w.set_defaults(func=_worker)

    s = sub.add_parser("sinks", help="run the SMS and voice stub providers")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--sms-port", type=int, help="default: the port of $YUJING_SMS_URL (8701)")
    s.add_argument("--sms-latency-ms", type=float, default=0.0)
    s.add_argument("--sms-failure-rate", type=float, default=0.0, help="0..1 of sends answered 503")
    s.add_argument("--voice-port", type=int, help="default: the port of $YUJING_VOICE_URL (8702)")
    s.add_argument("--voice-latency-ms", type=float, default=0.0)
    s.add_argument("--voice-failure-rate", type=float, default=0.0)
    s.add_argument("--voice-call-ms", type=float, default=300.0, help="how long a call lasts")
    s.add_argument(
        "--voice-outcomes",
        default="handled=0.7,needs_help=0.2,no_answer=0.1",
        help="weights of call outcomes",
    )
    s.add_argument(
        "--lost-response-rate",
        type=float,
        default=0.5,
        help="0..1 of injected failures that happen after the provider accepted",
    )
    s.add_argument("--seed", type=int, default=None, help="seed for injected failures")
    s.set_defaults(func=_sinks)

    d = sub.add_parser("demo", help="broker + sinks + worker, sample readings, results printed")
    d.add_argument("--sms-port", type=int, default=8701)
    d.add_argument("--voice-port", type=int, default=8702)
    d.add_argument("--web-port", type=int, default=6066)
    d.set_defaults(func=_demo)

    b = sub.add_parser(
        "bench",
        help="end-to-end benchmark: pipeline vs raw aiokafka, latency, 1 and 2 workers, RSS",
    )
    from benchmarks.e2e import add_arguments

    add_arguments(b)
    b.set_defaults(func=_bench)

    sc = sub.add_parser(
        "schemas",
        help="regenerate schemas/jsonschema/*.json and schemas/asyncapi.yaml from the models",
    )
    sc.set_defaults(func=_schemas)
    return parser


def main(argv: list[str] | None = None) -> int:
    from kafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError

    from streams.dev.broker import BrokerError
    from streams.runtime.reach import BrokerUnreachable, OneLineError

    args = build_parser().parse_args(argv)
    try:
        bootstrap = _needs_broker(args)
        if bootstrap:
            from streams.runtime.reach import require_broker

            require_broker(bootstrap)  # one line within seconds, before any work starts
        return int(args.func(args))
    except ConfigError as err:
        print(f"yujing {args.command}: configuration error:\n{err}", file=sys.stderr)
        return 2
    except OneLineError as err:
        print(f"yujing {args.command}: {err}", file=sys.stderr)
        return err.exit_code
    except (KafkaTimeoutError, KafkaConnectionError, NodeNotReadyError) as err:
        # the broker answered the start-up probe and went away afterwards
        where = _bootstrap_of(args)
        print(
            f"yujing {args.command}: broker not reachable at {where} ({type(err).__name__})",
            file=sys.stderr,
        )
        return BrokerUnreachable.exit_code
    except BrokerError as err:
        print(f"yujing {args.command}: {err}", file=sys.stderr)
        return 2


def _needs_broker(args: argparse.Namespace) -> str | None:
    """The broker a command is about to use, if it uses one it does not start itself."""
    import os

    configured = os.environ.get("YUJING_KAFKA_BOOTSTRAP", "").strip()
    # (replay checks its file first, then the broker: a bad file needs no broker to say so)
    if args.command in ("worker", "tail", "report") or (
        args.command == "simulate" and getattr(args, "kafka", False)
    ):
        from streams.runtime.settings import Settings

        return getattr(args, "bootstrap", None) or Settings.from_env().kafka_bootstrap
    if args.command in ("demo", "bench"):
        return configured or None  # else they start the local broker
    return None


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
