"""``yujing worker``: one pipeline worker, settings from ``YUJING_*`` variables.

Where this sits: the process that carries the whole flow (reading → signal →
alert → order → notification). Before Faust starts it checks the broker, makes
its data directory and creates every topic it uses
(:mod:`streams.runtime.provision`), then runs the Faust worker without its
terminal spinner.
"""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING, Any

from streams.runtime.provision import ensure_data_dir, ensure_topics, registry_plan
from streams.runtime.reach import require_free_port

if TYPE_CHECKING:
    import faust

    from streams.runtime.app import Pipeline


def add_worker_command(sub: Any) -> None:
    w = sub.add_parser("worker", help="run a pipeline worker (Faust); settings from YUJING_* env")
    w.add_argument(
        "--web-port", type=int, help="metrics/ready port (default $YUJING_WEB_PORT or 6066)"
    )
    w.add_argument("--web-host", help="bind address (default $YUJING_WEB_HOST or 127.0.0.1)")
    w.add_argument("--loglevel", default="info")
    w.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from streams.runtime.app import create_pipeline
    from streams.runtime.settings import Settings

    settings = Settings.from_env(web_port=args.web_port, web_host=args.web_host)
    pipe = create_pipeline(settings)
    created = prepare_worker(pipe)  # broker, data directory, topics: before Faust starts
    print(
        f"yujing worker: broker {settings.kafka_bootstrap} "
        f"({settings.kafka_security.describe()}), group {settings.faust_id}, "
        f"topics prefixed {settings.topic_prefix!r} ({len(created)} created), "
        f"data in {settings.data_path}",
        file=sys.stderr,
        flush=True,
    )
    # The startup heap (modules, configuration, the district model, the app) lives as long
    # as the process: out of every later garbage collection. Measured on a million-key
    # table recovery (chaos T12): the full collections walking it again and again cost
    # about a fifth of the worker's CPU.
    gc.freeze()
    make_worker(pipe.app, args.loglevel).execute_from_commandline()
    return 0


def changelog_topics(pipe: Pipeline) -> list[tuple[str, int]]:
    """(name, partitions) of every table's changelog topic, as Faust will create them."""
    out: list[tuple[str, int]] = []
    for table in pipe.app.tables.values():
        topic = table.changelog_topic
        n = topic.partitions or pipe.app.conf.topic_partitions
        out.extend((name, n) for name in topic.topics)
    return sorted(out)


def prepare_worker(pipe: Pipeline) -> list[str]:
    """Broker reachable, data directory made, every topic there with its partitions.

    Returns the topics created. Raises ``PortInUse`` (its web port is taken),
    ``BrokerUnreachable``, ``PartitionsMismatch`` or ``ConfigError``, each one line.
    """
    s = pipe.settings
    require_free_port(s.web_host, s.web_port, "the worker's web server (YUJING_WEB_PORT)")
    ensure_data_dir(s.data_path)
    return ensure_topics(
        s.kafka_bootstrap,
        registry_plan(s.topic_prefix, s.partitions, s.replication_factor),
        check=changelog_topics(pipe),
        security=s.kafka_security,
    )


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
