"""``yujing broker install|start|stop|status``: command line for the local Kafka broker.

Infrastructure, not in the event flow. The main CLI wires this in with
:func:`add_broker_commands`; the parsed namespace's ``func`` runs the command and
returns the process exit code (0 success, 2 error, 3 ``status`` not running/answering).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from streams.dev.broker.config import KAFKA_VERSION, BrokerConfig, BrokerError
from streams.dev.broker.local import LocalBroker

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_NOT_RUNNING = 3


def add_broker_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``broker`` with its subcommands to ``subparsers`` (from ``add_subparsers()``).

    Sets ``func`` on the namespace: ``args.func(args) -> int`` (exit code).
    """
    broker = subparsers.add_parser(
        "broker",
        help=f"run a local single-node Kafka {KAFKA_VERSION} broker (KRaft, no Docker)",
        description=(
            f"Install, start, stop or inspect a local Apache Kafka {KAFKA_VERSION} broker "
            "(KRaft mode, Java 17+, jars fetched once with mvn). Files live under "
            "$YUJING_HOME/broker (default ./.yujing); ports come from YUJING_BROKER_PORT "
            "and YUJING_BROKER_CONTROLLER_PORT (default 9092/9093)."
        ),
    )
    broker.add_argument("--home", type=Path, help="yujing home directory (default $YUJING_HOME)")
    broker.add_argument("--port", type=int, help="client port (default $YUJING_BROKER_PORT)")
    broker.add_argument(
        "--controller-port",
        type=int,
        help="controller port (default $YUJING_BROKER_CONTROLLER_PORT)",
    )
    commands = broker.add_subparsers(dest="broker_command", metavar="COMMAND", required=True)
    commands.add_parser("install", help="fetch Kafka's jars with mvn (done by start if needed)")
    start = commands.add_parser("start", help="start the broker unless it already runs")
    start.add_argument("--timeout", type=float, default=60, help="seconds to wait (default 60)")
    stop = commands.add_parser("stop", help="stop the broker this home started")
    stop.add_argument(
        "--timeout", type=float, default=30, help="seconds before SIGKILL (default 30)"
    )
    commands.add_parser("status", help="is the broker running and answering? (exit 3 if not)")
    broker.set_defaults(func=run_broker_command)
    return broker


def _config(args: argparse.Namespace) -> BrokerConfig:
    config = BrokerConfig.from_env()
    changes: dict[str, Any] = {}
    if getattr(args, "home", None) is not None:
        changes["home"] = args.home
    if getattr(args, "port", None) is not None:
        changes["port"] = args.port
    if getattr(args, "controller_port", None) is not None:
        changes["controller_port"] = args.controller_port
    return dataclasses.replace(config, **changes) if changes else config


def run_broker_command(args: argparse.Namespace) -> int:
    try:
        broker = LocalBroker(_config(args))
        command = args.broker_command
        if command == "install":
            libs = broker.install()
            print(f"Kafka {KAFKA_VERSION} jars ready in {libs}")
        elif command == "start":
            bootstrap = broker.start(timeout=args.timeout)
            pid = broker.status().pid
            print(f"broker running at {bootstrap} (pid {pid}, files in {broker.dir})")
        elif command == "stop":
            pid = broker.status().pid
            if broker.stop(timeout=args.timeout):
                print(f"broker stopped (pid {pid})")
            else:
                print(f"no broker was running for {broker.config.home}")
        elif command == "status":
            st = broker.status()
            print(
                f"running={'yes' if st.running else 'no'} "
                f"answering={'yes' if st.answering else 'no'} "
                f"pid={st.pid if st.pid is not None else '-'} bootstrap={st.bootstrap}"
            )
            return EXIT_OK if st.running and st.answering else EXIT_NOT_RUNNING
        else:  # argparse's choices make this unreachable
            raise BrokerError(f"unknown command {command!r}")
    except BrokerError as exc:
        print(f"yujing broker: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK
