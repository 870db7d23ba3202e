"""Running a command so that every error a user can act on is one line, never a traceback.

Outside the event flow, around every ``yujing`` command: a bad configuration names
the file, field or variable (exit 2); a broker that does not answer says where,
within seconds, before any work starts (exit 3); the local broker's own errors
are one line (exit 2).
"""

from __future__ import annotations

import argparse
import sys

from streams.core.shared.config import ConfigError


def run_reporting_errors(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError

    from streams.runtime.reach import BrokerUnreachable, OneLineError, require_broker

    broker_errors: tuple[type[Exception], ...] = ()
    try:
        from streams.dev.broker import BrokerError

        broker_errors = (BrokerError,)
    except ModuleNotFoundError:  # an installation without development infrastructure
        pass
    try:
        bootstrap = _needs_broker(args)
        if bootstrap:
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
        print(
            f"yujing {args.command}: broker not reachable at {_bootstrap_of(args)} "
            f"({type(err).__name__})",
            file=sys.stderr,
        )
        return BrokerUnreachable.exit_code
    except broker_errors as err:
        print(f"yujing {args.command}: {err}", file=sys.stderr)
        return 2


def _needs_broker(args: argparse.Namespace) -> str | None:
    """The broker a command is about to use, if it uses one it does not start itself."""
    from streams.runtime.settings import Settings

    # (replay checks its file first, then the broker: a bad file needs no broker to say so)
    if args.command in ("worker", "tail", "report") or (
        args.command == "simulate" and getattr(args, "kafka", False)
    ):
        return getattr(args, "bootstrap", None) or Settings.from_env().kafka_bootstrap
    if args.command in ("demo", "bench"):  # else they start the local broker
        settings = Settings.from_env()
        return settings.kafka_bootstrap if settings.given("kafka_bootstrap") else None
    return None


def _bootstrap_of(args: argparse.Namespace) -> str:
    if getattr(args, "bootstrap", None):
        return str(args.bootstrap)
    from streams.runtime.settings import Settings

    try:
        return Settings.from_env().kafka_bootstrap
    except ConfigError:
        return "the configured address"
