"""Before anything flows: the broker answers, every topic exists with its partitions, and
the worker has a data directory.

Outside the event flow: it lays the ground every hop (reading → signal →
alert → order → notification) runs on. A worker calls :func:`prepare_worker`
before Faust starts; the tools that write to the inputs (replay, simulate,
demo) and the tests call :func:`ensure_topics`. Both are idempotent.

Why not let the broker create topics on first use: a broker that auto-creates
gives a topic its own default partition count (one, on the local broker), and
the pipeline needs ``YUJING_PARTITIONS`` on every topic it co-partitions
(orders, updates and ticks; readings and the disposal watch; the changelogs).
Why refuse a mismatch rather than live with it: records keyed for two
partitions land in one, a table's changelog stops lining up with its source,
and the worker dies later with an assertion nobody can read. So an existing
topic with another partition count stops the start with one line naming it.

Replicas (``YUJING_REPLICATION_FACTOR``): every topic is created with that many, and
above one with ``min.insync.replicas`` min(2, replicas) (:func:`replica_configs`), so
that a write acked by all replicas (the only acks the pipeline uses) is on two
brokers; a topic that exists keeps the replicas it has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from schemas.registry import TOPICS
from streams.core.shared.config import ConfigError
from streams.runtime.kafka_security import PLAINTEXT, KafkaSecurity
from streams.runtime.reach import OneLineError, require_broker

#: Registry topics whose records are only worth keeping briefly.
SHORT_RETENTION = {"yujing.ticks.v1": timedelta(hours=1)}


class PartitionsMismatch(OneLineError):
    """An existing topic has another partition count than this run needs."""

    def __init__(self, topic: str, found: int, wanted: int) -> None:
        self.topic, self.found, self.wanted = topic, found, wanted
        super().__init__(
            f"topic {topic} has {found} partition(s) on the broker, this run needs {wanted} "
            f"(YUJING_PARTITIONS); delete the topic or use another YUJING_TOPIC_PREFIX"
        )


@dataclass(frozen=True)
class TopicPlan:
    """One physical topic: its name, partition count, topic configs and replicas."""

    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)
    replicas: int = 1


def replica_configs(replicas: int) -> dict[str, str]:
    """The topic configs that go with ``replicas``: above one, two must be in sync
    (one, with two replicas) to take a write acked by all.

    >>> [replica_configs(n) for n in (1, 2, 3)]
    [{}, {'min.insync.replicas': '2'}, {'min.insync.replicas': '2'}]
    """
    return {"min.insync.replicas": str(min(2, replicas))} if replicas > 1 else {}


def registry_plan(prefix: str, partitions: int, replicas: int = 1) -> list[TopicPlan]:
    """Every registry topic under ``prefix``, ``partitions`` each; short retention where set.

    >>> [(p.name, p.configs) for p in registry_plan("qa.", 2) if p.configs]
    [('qa.yujing.ticks.v1', {'retention.ms': '3600000'})]
    >>> {(p.replicas, p.configs["min.insync.replicas"]) for p in registry_plan("", 2, 3)}
    {(3, '2')}
    """
    plans = []
    for name in TOPICS:
        retention = SHORT_RETENTION.get(name)
        configs = {"retention.ms": str(int(retention.total_seconds() * 1000))} if retention else {}
        configs.update(replica_configs(replicas))
        plans.append(TopicPlan(prefix + name, partitions, configs, replicas))
    return plans


def ensure_topics(
    bootstrap: str,
    plans: Iterable[TopicPlan],
    *,
    check: Iterable[tuple[str, int]] = (),
    security: KafkaSecurity = PLAINTEXT,
) -> list[str]:
    """Create the planned topics that do not exist; return the names created.

    Then every planned topic, and every ``(name, partitions)`` of ``check`` that
    exists (topics someone else creates, such as Faust's changelogs), must have
    its partition count, else :class:`PartitionsMismatch`. Safe to run from
    several processes at once: a topic another one created meanwhile is checked
    like any other. It connects with ``security``. An unreachable broker is
    :class:`~streams.runtime.reach.BrokerUnreachable`, one that refuses this client
    :class:`~streams.runtime.reach.BrokerRefused`.
    """
    from kafka import KafkaAdminClient
    from kafka.errors import TopicAlreadyExistsError, for_code

    plans = list(plans)
    wanted = {p.name: p.partitions for p in plans}
    for name, n in check:
        wanted.setdefault(name, n)
    require_broker(bootstrap, security=security)
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="yujing-provision", **security.kafka_python()
    )
    try:
        existing = set(admin.list_topics())
        # check what is there before creating anything: a refusal leaves the broker as it was
        _check(admin, wanted, [n for n in wanted if n in existing])
        new = {
            p.name: {
                "num_partitions": p.partitions,
                "replication_factor": p.replicas,
                "configs": p.configs,
            }
            for p in plans
            if p.name not in existing
        }
        if not new:
            return []
        created: list[str] = []
        raced: list[str] = []
        result = admin.create_topics(new, raise_errors=False)
        for topic in result.get("topics", []):
            error = for_code(topic["error_code"])
            if topic["error_code"] == 0:
                created.append(topic["name"])
            elif error is TopicAlreadyExistsError:
                raced.append(topic["name"])  # another process made it meanwhile
            else:
                raise ConfigError(
                    f"cannot create topic {topic['name']}: {error.__name__}"
                    + (f" ({topic['error_message']})" if topic.get("error_message") else "")
                )
        _check(admin, wanted, sorted(created + raced))  # also waits until they are visible
        return sorted(created)
    finally:
        admin.close()


def _check(admin: object, wanted: dict[str, int], names: list[str]) -> None:
    for name, found in _partition_counts(admin, names).items():
        if found != wanted[name]:
            raise PartitionsMismatch(name, found, wanted[name])


def _partition_counts(admin: object, names: list[str]) -> dict[str, int]:
    """Partition count per topic, waiting briefly for topics still being created."""
    import time

    if not names:
        return {}
    counts: dict[str, int] = {}
    deadline = time.monotonic() + 10.0
    pending = list(names)
    while pending:
        for t in admin.describe_topics(pending):  # type: ignore[attr-defined]
            if t["error_code"] == 0 and t["partitions"]:
                counts[t["name"]] = len(t["partitions"])
        pending = [n for n in names if n not in counts]
        if pending and time.monotonic() > deadline:
            raise ConfigError(f"topics not visible on the broker after 10 s: {', '.join(pending)}")
        if pending:
            time.sleep(0.2)
    return counts


def ensure_data_dir(path: Path) -> Path:
    """Create the worker's data directory (and its parents) if needed."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"YUJING_DATA_DIR: cannot create {path}: {err.strerror or err}") from None
    return path


__all__ = [
    "SHORT_RETENTION",
    "PartitionsMismatch",
    "TopicPlan",
    "ensure_data_dir",
    "ensure_topics",
    "registry_plan",
    "replica_configs",
]
