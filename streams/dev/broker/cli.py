"""``yujing broker install|start|stop|status``: command line for the local Kafka broker.

Infrastructure, not in the event flow. The main CLI wires this in with
:func:`add_broker_commands`; the parsed namespace's ``func`` runs the command and
returns the process exit code (0 success, 2 error, 3 ``status`` not running/answering).

``start --nodes 3`` runs the three-node cluster of :mod:`~streams.dev.broker.cluster`
instead of the single broker; ``stop`` stops whichever of the two this home runs, and
``status`` reports the cluster if that is what this home runs (``--nodes`` picks).

``start --secure`` runs the single broker with TLS, SCRAM users and ACLs
(:mod:`~streams.dev.broker.secure`) and says where each user's credentials file is;
``status`` and ``stop`` need no flag, the broker's files say it is secure.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from streams.dev.broker.acls import USERS
from streams.dev.broker.cluster import CLUSTER_NODES, LocalCluster, check_nodes
from streams.dev.broker.config import KAFKA_VERSION, BrokerConfig, BrokerError, broker_settings
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
        help=f"run a local Kafka {KAFKA_VERSION} broker or 3-node cluster (KRaft, no Docker)",
        description=(
            f"Install, start, stop or inspect a local Apache Kafka {KAFKA_VERSION} broker "
            "(KRaft mode, Java 17+, jars fetched once with mvn). Files live under "
            "$YUJING_HOME/broker (default ./.yujing); ports come from YUJING_BROKER_PORT "
            "and YUJING_BROKER_CONTROLLER_PORT (default 9092/9093). With --nodes 3, a "
            "three-node cluster: node i on port + i and controller port + i, files under "
            "$YUJING_HOME/cluster."
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
    start.add_argument(
        "--nodes",
        type=int,
        default=1,
        metavar="N",
        help="1 (default): one broker; 3: a cluster whose topics get 3 replicas, 2 in sync, "
        "so it keeps working with a node lost (start again restarts a lost node)",
    )
    start.add_argument(
        "--secure",
        action="store_true",
        help="one broker with TLS (a CA of its own), SCRAM users admin, worker, tools and "
        "downstream, and ACLs; credentials in $YUJING_HOME/secrets/<user>.env",
    )
    stop = commands.add_parser("stop", help="stop the broker or cluster this home started")
    stop.add_argument(
        "--timeout", type=float, default=30, help="seconds before SIGKILL (default 30)"
    )
    stop.add_argument(
        "--nodes", type=int, metavar="N", help="1 or 3: stop only that (default: whatever runs)"
    )
    status = commands.add_parser(
        "status", help="is the broker (every node) running and answering? (exit 3 if not)"
    )
    status.add_argument(
        "--nodes", type=int, metavar="N", help="1 or 3 (default: the cluster if this home runs one)"
    )
    broker.set_defaults(func=run_broker_command)
    return broker


def set_by_environment() -> set[str]:
    """The broker settings given by environment variables (not defaults)."""
    return set(broker_settings().model_fields_set)


def _config(args: argparse.Namespace) -> BrokerConfig:
    config = BrokerConfig.from_env()
    changes: dict[str, Any] = {}
    if getattr(args, "home", None) is not None:
        changes["home"] = args.home
    if getattr(args, "port", None) is not None:
        changes["port"] = args.port
    if getattr(args, "controller_port", None) is not None:
        changes["controller_port"] = args.controller_port
    config = dataclasses.replace(config, **changes) if changes else config
    nodes = getattr(args, "nodes", None) or 1
    chosen = "controller_port" in changes or "broker_controller_port" in set_by_environment()
    if nodes > 1 and not chosen and abs(config.port - config.controller_port) < nodes:
        # the default controller port is the next node's client port: move it out of the
        # way (a port given on purpose is kept, and an overlap with it refused)
        away = config.port + 100 if config.port + 100 + nodes <= 65536 else config.port - 100
        config = dataclasses.replace(config, controller_port=away)
    return config


def run_broker_command(args: argparse.Namespace) -> int:
    try:
        config = _config(args)
        nodes = getattr(args, "nodes", None)
        if nodes is not None:
            check_nodes(nodes)
        command = args.broker_command
        if command == "install":
            libs = LocalBroker(config).install()
            print(f"Kafka {KAFKA_VERSION} jars ready in {libs}")
        elif command == "start":
            _start(config, nodes or 1, args.timeout, secure=args.secure)
        elif command == "stop":
            _stop(config, nodes, args.timeout)
        elif command == "status":
            return _status(config, nodes)
        else:  # argparse's choices make this unreachable
            raise BrokerError(f"unknown command {command!r}")
    except BrokerError as exc:
        print(f"yujing broker: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _start(config: BrokerConfig, nodes: int, timeout: float, secure: bool = False) -> None:
    if nodes > 1 and secure:
        raise BrokerError(
            f"--secure runs the single broker only, not a {nodes}-node cluster: "
            "drop --nodes or --secure"
        )
    if nodes > 1:
        cluster = LocalCluster(config, nodes)
        bootstrap = cluster.start(timeout=timeout)
        pids = ", ".join(map(str, cluster.running_pids()))
        print(f"broker running at {bootstrap} (pids {pids}, files in {cluster.dir})")
        return
    cluster_pids = LocalCluster(config).running_pids()
    if cluster_pids:
        raise BrokerError(
            f"the {CLUSTER_NODES}-node cluster of {config.home} runs (pids "
            f"{', '.join(map(str, cluster_pids))}): stop it with `yujing broker stop` first, "
            "or give the single broker another YUJING_HOME"
        )
    broker = LocalBroker(config)
    bootstrap = broker.start(timeout=timeout, secure=secure)
    pid = broker.status().pid
    print(f"broker running at {bootstrap} (pid {pid}, files in {broker.dir})")
    if secure:
        users = ", ".join(f"{user}.env" for user in USERS)
        print(
            f"secure: SASL_SSL, SCRAM-SHA-512; credentials in {broker.secrets_dir} ({users}), "
            f"e.g. YUJING_ENV_FILE={broker.secrets_dir / 'worker.env'} yujing worker"
        )


def _stop(config: BrokerConfig, nodes: int | None, timeout: float) -> None:
    stopped = False
    if nodes in (None, 1):
        broker = LocalBroker(config)
        pid = broker.status().pid
        if broker.stop(timeout=timeout):
            print(f"broker stopped (pid {pid})")
            stopped = True
    if nodes in (None, CLUSTER_NODES):
        pids = LocalCluster(config).stop(timeout=timeout)
        if pids:
            print(f"broker stopped (pids {', '.join(map(str, pids))})")
            stopped = True
    if not stopped:
        print(f"no broker was running for {config.home}")


def _status(config: BrokerConfig, nodes: int | None) -> int:
    cluster = LocalCluster(config)
    if nodes is None:  # the cluster if it runs, or if this home never ran a single broker
        only_cluster = cluster.exists() and not LocalBroker(config).dir.is_dir()
        nodes = CLUSTER_NODES if only_cluster or cluster.running_pids() else 1
    if nodes == 1:
        st = LocalBroker(config).status()
        print(
            f"running={'yes' if st.running else 'no'} "
            f"answering={'yes' if st.answering else 'no'} "
            f"pid={st.pid if st.pid is not None else '-'} bootstrap={st.bootstrap}"
        )
        return EXIT_OK if st.running and st.answering else EXIT_NOT_RUNNING
    status = cluster.status()
    for node in status.nodes:
        print(
            f"node={node.index} running={'yes' if node.running else 'no'} "
            f"answering={'yes' if node.answering else 'no'} "
            f"pid={node.pid if node.pid is not None else '-'} bootstrap={node.bootstrap}"
        )
    return EXIT_OK if status.healthy else EXIT_NOT_RUNNING
