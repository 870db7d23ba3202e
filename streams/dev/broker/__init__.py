"""Local Kafka broker for development and tests (infrastructure, not in the event flow).

A single-node KRaft broker, or a three-node KRaft cluster, started from Apache
Kafka's own jars from Maven Central, one concept per module:

* :mod:`~streams.dev.broker.config`: the Kafka release, :class:`BrokerConfig`,
  :class:`BrokerError`;
* :mod:`~streams.dev.broker.files`: the files under ``<home>/broker/``, the cluster id;
* :mod:`~streams.dev.broker.java`: finding Java 17+;
* :mod:`~streams.dev.broker.jars`: fetching Kafka's jars (``yujing broker install``);
* :mod:`~streams.dev.broker.process`: the broker process, its pid file, stopping it;
* :mod:`~streams.dev.broker.probe`: does a broker answer, is a port free;
* :mod:`~streams.dev.broker.local`: :class:`LocalBroker`, which puts them together;
* :mod:`~streams.dev.broker.cluster`: :class:`LocalCluster`, three such nodes as one
  cluster that keeps working with one of them lost;
* :mod:`~streams.dev.broker.secure` (``start --secure``): the single broker with TLS
  (:mod:`~streams.dev.broker.tls`), SCRAM users and ACLs
  (:mod:`~streams.dev.broker.acls`, the plan; :mod:`~streams.dev.broker.acl_admin`,
  applying it);
* :mod:`~streams.dev.broker.cli`: ``yujing broker install|start|stop|status``.
"""

from streams.dev.broker.cluster import ClusterStatus, LocalCluster, NodeStatus
from streams.dev.broker.config import KAFKA_VERSION, BrokerConfig, BrokerError
from streams.dev.broker.jars import kafka_libs_dir
from streams.dev.broker.java import check_java, java_executable
from streams.dev.broker.local import BrokerStatus, LocalBroker
from streams.dev.broker.probe import broker_answers, find_free_port

__all__ = [
    "KAFKA_VERSION",
    "BrokerConfig",
    "BrokerError",
    "BrokerStatus",
    "ClusterStatus",
    "LocalBroker",
    "LocalCluster",
    "NodeStatus",
    "broker_answers",
    "check_java",
    "find_free_port",
    "java_executable",
    "kafka_libs_dir",
]
