"""Replicas of the pipeline's topics (``YUJING_REPLICATION_FACTOR``), without a broker.

What a worker asks the broker for: the registry topics it creates and the changelogs
Faust creates get the replicas of the settings and, above one, ``min.insync.replicas``
2, so a write acked by all is on two brokers. On a real three-node cluster:
``tests/streams/dev/broker/test_cluster.py``.
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from streams.runtime.app import create_pipeline
from streams.runtime.provision import registry_plan, replica_configs
from streams.runtime.settings import Settings


def test_one_replica_unless_told_otherwise() -> None:
    assert Settings.from_env({}).replication_factor == 1
    assert Settings.from_env({"YUJING_REPLICATION_FACTOR": "3"}).replication_factor == 3


@pytest.mark.parametrize(("replicas", "in_sync"), [(1, None), (2, "2"), (3, "2"), (5, "2")])
def test_the_registry_topics_get_the_replicas_and_two_in_sync(
    replicas: int, in_sync: str | None
) -> None:
    plans = registry_plan("qa.", 2, replicas)
    assert {p.replicas for p in plans} == {replicas}
    assert {p.configs.get("min.insync.replicas") for p in plans} == {in_sync}
    ticks = next(p for p in plans if p.name == "qa.yujing.ticks.v1")
    assert ticks.configs["retention.ms"] == "3600000"  # kept beside the replica configs
    assert replica_configs(replicas) == ({} if in_sync is None else {"min.insync.replicas": "2"})


@pytest.mark.parametrize(("replicas", "in_sync"), [(1, None), (3, "2")])
def test_faust_makes_its_changelogs_with_the_same_replicas(
    replicas: int, in_sync: str | None
) -> None:
    pipe = create_pipeline(Settings(replication_factor=replicas), registry=CollectorRegistry())
    assert pipe.app.conf.topic_replication_factor == replicas
    changelogs = [table.changelog_topic for table in pipe.app.tables.values()]
    assert len(changelogs) >= 6
    assert {topic.config.get("min.insync.replicas") for topic in changelogs} == {in_sync}
