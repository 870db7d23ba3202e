"""What the local Kafka broker runs: the Kafka release, its home, its ports, its heap.

Where this sits: development infrastructure, not in the event flow. The local broker
is a single-node KRaft broker started from Apache Kafka's own jars from Maven Central
(``yujing broker install|start|stop|status``, and the tests' ``kafka_bootstrap``
fixture); no event of the pipeline passes through this package.

This module holds the settings every other module of the broker reads: the pinned
:data:`KAFKA_VERSION`, :class:`BrokerConfig` (read from ``YUJING_HOME`` and
``YUJING_BROKER_*`` through :class:`~streams.runtime.settings.BrokerSettings`, checked
when it is built) and :class:`BrokerError`, the one-line failure every step raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streams.core.shared.config import ConfigError
from streams.runtime.settings import BrokerSettings

__all__ = [
    "KAFKA_VERSION",
    "SCALA_BINARY_VERSION",
    "BrokerConfig",
    "BrokerError",
    "broker_settings",
]

#: Kafka release the broker runs; keep in step with ``kafka.version`` in pom.xml.
KAFKA_VERSION = "4.1.1"
#: Scala build of Kafka's core jar (``kafka_<scala>-<version>.jar``); idem.
SCALA_BINARY_VERSION = "2.13"


class BrokerError(RuntimeError):
    """A failure of the local broker the user can act on; the message says how."""


def broker_settings() -> BrokerSettings:
    """``YUJING_HOME`` and ``YUJING_BROKER_*``; a bad value is a :class:`BrokerError`."""
    try:
        return BrokerSettings.from_env()
    except ConfigError as err:
        raise BrokerError(str(err)) from None


def _default_home() -> Path:
    return broker_settings().home.resolve()


@dataclass(frozen=True)
class BrokerConfig:
    """Where the local broker keeps its files and which loopback ports it listens on.

    Checked when built: ports within 1..65535 and different, a heap of at least 128 MB.
    """

    home: Path = field(default_factory=_default_home)
    port: int = 9092
    controller_port: int = 9093
    heap_mb: int = 512

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).expanduser().resolve())
        for name in ("port", "controller_port"):
            value = getattr(self, name)
            if not 0 < value < 65536:
                raise BrokerError(f"{name} must be between 1 and 65535, got {value}")
        if self.heap_mb < 128:
            raise BrokerError(f"heap_mb must be at least 128, got {self.heap_mb}")
        if self.port == self.controller_port:
            raise BrokerError(
                f"the broker port and the controller port must differ (both are {self.port})"
            )

    @classmethod
    def from_env(cls) -> BrokerConfig:
        """Read ``YUJING_HOME``, ``YUJING_BROKER_PORT``, ``YUJING_BROKER_CONTROLLER_PORT``
        and ``YUJING_BROKER_HEAP_MB`` (streams.runtime.settings.BrokerSettings); unset
        variables keep the defaults."""
        settings = broker_settings()
        return cls(
            home=settings.home,
            port=settings.broker_port,
            controller_port=settings.broker_controller_port,
            heap_mb=settings.broker_heap_mb,
        )

    @property
    def bootstrap(self) -> str:
        """The address clients use: ``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self.port}"
