"""Local Kafka broker for development and tests (infrastructure, not in the event flow).

See :mod:`streams.broker.local`.
"""

from streams.broker.local import (
    KAFKA_VERSION,
    BrokerConfig,
    BrokerError,
    BrokerStatus,
    LocalBroker,
    broker_answers,
    check_java,
    find_free_port,
    java_executable,
    kafka_libs_dir,
)

__all__ = [
    "KAFKA_VERSION",
    "BrokerConfig",
    "BrokerError",
    "BrokerStatus",
    "LocalBroker",
    "broker_answers",
    "check_java",
    "find_free_port",
    "java_executable",
    "kafka_libs_dir",
]
