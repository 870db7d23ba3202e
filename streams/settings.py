"""Worker settings from the environment, validated once at start-up.

Not in the event flow: it says where the broker, the sinks and the
configuration files are. A bad value fails at start with the variable's name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from streams.core.catalogue import DEFAULT_PATH as DEFAULT_CATALOGUE
from streams.core.config import ConfigError
from streams.core.routing import DEFAULT_PATH as DEFAULT_ROUTES

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
    sms_url: str = "http://127.0.0.1:8701"
    delivery_max_attempts: int = 5
    delivery_backoff_s: float = 0.2
    delivery_timeout_s: float = 5.0
    data_dir: Path = Path(".yujing/worker")
    seed: int = 0

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
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        if self.partitions < 1:
            raise ConfigError(f"{ENV_PREFIX}PARTITIONS must be >= 1, got {self.partitions}")
        if self.max_message_bytes < 1024:
            raise ConfigError(f"{ENV_PREFIX}MAX_MESSAGE_BYTES must be >= 1024")
        if self.delivery_max_attempts < 1:
            raise ConfigError(f"{ENV_PREFIX}DELIVERY_MAX_ATTEMPTS must be >= 1")

    def topic(self, name: str) -> str:
        """The physical topic name for a registry topic name."""
        return f"{self.topic_prefix}{name}"


def _convert(type_name: object, raw: str) -> object:
    t = str(type_name)
    if t == "int":
        return int(raw)
    if t == "float":
        return float(raw)
    if t == "Path":
        return Path(raw)
    return raw
