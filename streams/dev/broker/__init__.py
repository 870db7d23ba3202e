"""Local Kafka broker for development and tests (infrastructure, not in the event flow).

See :mod:`streams.dev.broker.local`.
"""

from streams.dev.broker.local import (
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
