"""Worker settings from the environment, validated once at start-up.

Not in the event flow: it says where the broker, the sinks and the
configuration files are. A bad value fails at start with the variable's name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from streams.core.orders.routing import DEFAULT_PATH as DEFAULT_ROUTES
from streams.core.shared.catalogue import DEFAULT_PATH as DEFAULT_CATALOGUE
from streams.core.shared.config import ConfigError
from streams.core.shared.district import DEFAULT_PATH as DEFAULT_DISTRICT
from streams.runtime.provision import default_data_dir

ENV_PREFIX = "YUJING_"


@dataclass(frozen=True)
class Settings:
    """Every field can be set by ``YUJING_<FIELD NAME IN UPPER CASE>``."""

    kafka_bootstrap: str = "127.0.0.1:9092"
    app_id: str = "yujing"
    topic_prefix: str = ""
    partitions: int = 2
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    max_message_bytes: int = 64 * 1024
    catalogue: Path = DEFAULT_CATALOGUE
    routes: Path = DEFAULT_ROUTES
    #: The district model (streams/config/district.yaml): places, sensors and the directory
    #: of responsible parties. ``YUJING_REGIONS``, its former name, is still read.
    district: Path = DEFAULT_DISTRICT
    sms_url: str = "http://127.0.0.1:8701"
    voice_url: str = "http://127.0.0.1:8702"
    delivery_max_attempts: int = 5
    delivery_backoff_s: float = 0.2
    delivery_timeout_s: float = 5.0
    #: The worker's local data; default ``$XDG_DATA_HOME/yujing/worker/<faust_id>``
    #: (else ``~/.local/share/yujing/...``), never the working directory.
    data_dir: Path | None = None
    seed: int = 0
    #: Simulated clock (see streams.core.shared.clock): ISO-8601 with offset or Unix seconds.
    clock_epoch: str = ""
    clock_anchor: str = ""
    clock_speed: float = 1.0
    #: How often (wall seconds) each partition gets a tick that checks its SLA deadlines.
    tick_interval_s: float = 1.0
    #: Consumer group session timeout: how soon a killed worker's partitions move on.
    session_timeout_s: float = 30.0
    #: Seconds a source partition may sit stuck (its next record neither processed, nor
    #: being processed, nor buffered, with records behind it) before it is read again.
    stall_after_s: float = 30.0
    #: Test-only fault injection (see the modules that read it): "die_after_breach"
    #: (streams.runtime.agents.track), "lose_handover:<registry topic>" (streams.runtime.consumer).
    failpoint: str = ""

    @classmethod
    def configured_bootstrap(cls, environ: dict[str, str] | None = None) -> str | None:
        """The broker named by ``YUJING_KAFKA_BOOTSTRAP``, if one is (else: start the local one)."""
        env = os.environ if environ is None else environ
        return env.get(ENV_PREFIX + "KAFKA_BOOTSTRAP", "").strip() or None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = ENV_PREFIX + f.name.upper()
            if f.name in overrides and overrides[f.name] is not None:
                values[f.name] = overrides[f.name]
                continue
            if name not in env:
                continue
            raw = env[name]
            try:
                values[f.name] = _convert(f.type, raw)
            except ValueError as err:
                raise ConfigError(f"environment variable {name}={raw!r}: {err}") from None
        if "district" not in values and env.get(ENV_PREFIX + "REGIONS", "").strip():
            values["district"] = Path(env[ENV_PREFIX + "REGIONS"].strip())  # the former name
        if "kafka_bootstrap" not in values and env.get("YUJING_BROKER_PORT", "").strip():
            # the local broker's port (``yujing broker start``), when no bootstrap is given
            raw = env["YUJING_BROKER_PORT"].strip()
            if not raw.isdigit():
                raise ConfigError(f"environment variable YUJING_BROKER_PORT={raw!r}: not a port")
            values["kafka_bootstrap"] = f"127.0.0.1:{int(raw)}"
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    @property
    def faust_id(self) -> str:
        """The Faust app id: consumer group and changelog-topic prefix (``<id>-<table>-changelog``).

        The topic prefix goes in front, so a prefix isolates a run completely: its
        topics, its changelogs and its consumer group.

        >>> Settings(topic_prefix="qa0.").faust_id
        'qa0.yujing'
        """
        return self.topic_prefix + self.app_id

    @property
    def data_path(self) -> Path:
        """The worker's data directory: ``data_dir``, else
        ``$XDG_DATA_HOME/yujing/worker/<faust_id>`` (``~/.local/share/yujing/...``)."""
        if self.data_dir is not None:
            return self.data_dir
        return default_data_dir() / "worker" / self.faust_id

    def check(self) -> None:
        if self.partitions < 1:
            raise ConfigError(f"{ENV_PREFIX}PARTITIONS must be >= 1, got {self.partitions}")
        if self.max_message_bytes < 1024:
            raise ConfigError(f"{ENV_PREFIX}MAX_MESSAGE_BYTES must be >= 1024")
        if self.delivery_max_attempts < 1:
            raise ConfigError(f"{ENV_PREFIX}DELIVERY_MAX_ATTEMPTS must be >= 1")
        if not self.clock_speed > 0:
            raise ConfigError(f"{ENV_PREFIX}CLOCK_SPEED must be > 0, got {self.clock_speed}")
        if not 0.05 <= self.tick_interval_s <= 60:
            raise ConfigError(f"{ENV_PREFIX}TICK_INTERVAL_S must be within [0.05, 60]")
        if not 1 <= self.stall_after_s <= 3600:
            raise ConfigError(f"{ENV_PREFIX}STALL_AFTER_S must be within [1, 3600]")
        if not 6 <= self.session_timeout_s <= 300:
            raise ConfigError(f"{ENV_PREFIX}SESSION_TIMEOUT_S must be within [6, 300]")
        from streams.core.shared.clock import make_clock

        try:
            make_clock(self.clock_epoch, self.clock_speed, self.clock_anchor)
        except ConfigError as err:
            raise ConfigError(f"{ENV_PREFIX}CLOCK_*: {err}") from None

    def topic(self, name: str) -> str:
        """The physical topic name for a registry topic name."""
        return f"{self.topic_prefix}{name}"


def _convert(type_name: object, raw: str) -> object:
    t = str(type_name)
    if t == "int":
        return int(raw)
    if t == "float":
        return float(raw)
    if t in ("Path", "Path | None"):
        return Path(raw)
    return raw
