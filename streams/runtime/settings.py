"""Settings from the environment: the one place the process environment is read.

Not in the event flow: it says where the broker, the sinks, the configuration files
and the local data are, for the worker (:class:`Settings`), the local development
broker (:class:`BrokerSettings`) and the host's own directories (:class:`HostSettings`).
Every value is typed and validated when it is read; a bad one fails at load with one
line naming its variable, e.g. ``YUJING_PARTITIONS: input should be a valid integer,
unable to parse string as an integer, got 'two'``. Durations are seconds, with the
unit in the name (``*_s``). An empty variable counts as unset.

``Settings(...)`` holds exactly the values it is given (and the defaults);
``Settings.from_env()`` reads the environment. Nothing else in ``streams/`` reads
``os.environ`` (a test checks this), except to hand an environment to a child process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretBytes, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from streams.core.shared.config import ConfigError
from streams.runtime.envfile import with_env_file
from streams.runtime.kafka_security import KafkaSecuritySettings
from streams.runtime.webauth import Token

__all__ = [
    "ENV_PREFIX",
    "BrokerSettings",
    "EnvironmentSettings",
    "HostSettings",
    "Settings",
    "default_data_dir",
]

ENV_PREFIX = "YUJING_"

#: The packaged configuration files (streams/config/); the loaders in streams.core say
#: the same (a test checks), without making this module import them.
CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"

Port = Annotated[int, Field(ge=1, le=65535)]
#: A duration in seconds: finite, never negative.
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]

_NAME = re.compile(r"[A-Za-z0-9._-]*")  # what Kafka allows in a topic name
_BROKER = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^\s:,\[\]/]+)(:(\d{1,5}))?")
_FAILPOINT = re.compile(
    r"die_after_breach|die_after_call_placed|die_after_call_receipt|lose_handover:.+"
    r"|die_with_outputs_in_flight:[1-9][0-9]*"
)


def _kafka_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("only letters, digits, '.', '_' and '-' may be in a topic name")
    return value


def _bootstrap(value: str) -> str:
    parts = [part.strip() for part in value.split(",")]
    for part in parts:
        match = _BROKER.fullmatch(part)
        if match is None or (match.group(3) and not 0 < int(match.group(3)) < 65536):
            which = f"{part!r} is " if len(parts) > 1 else ""
            raise ValueError(f"{which}not host:port, e.g. kafka-1:9092")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL, e.g. http://127.0.0.1:8701")
    try:
        _ = parts.port  # a port out of range or not a number
    except ValueError as err:
        raise ValueError(f"bad port: {err}") from None
    return value


def _failpoint(value: str) -> str:
    if value and not _FAILPOINT.fullmatch(value):
        raise ValueError(
            "known failpoints: die_after_breach, die_after_call_placed, "
            "die_after_call_receipt, lose_handover:<registry topic>, "
            "die_with_outputs_in_flight:<n>"
        )
    return value


def _is_secret(annotation: Any) -> bool:
    return annotation in (SecretStr, SecretBytes) or any(map(_is_secret, get_args(annotation)))


class _Variables(EnvSettingsSource):
    """The variables of one mapping (the process environment, or a test's dict).

    Names are upper case (``yujing_partitions`` is not ``YUJING_PARTITIONS``); values
    are stripped, and an empty one counts as unset.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=False)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            name.lower(): value.strip()
            for name, value in self._environ.items()
            if name.isupper() and value.strip()
        }


class EnvironmentSettings(BaseSettings):
    """Settings read by :meth:`from_env`, frozen, each field from ``<prefix><FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", str_strip_whitespace=True
    )
    #: Variables still read under a former name when the current one is unset.
    FORMER_NAMES: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the environment is read by from_env only

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """The settings of ``environ`` (default: this process's) over its ``YUJING_ENV_FILE``.

        An override that is not None wins over the environment (a command-line flag).
        A bad value raises :class:`ConfigError`, one line per variable.
        """
        env = with_env_file(os.environ if environ is None else environ)
        values: dict[str, Any] = _Variables(cls, env)()
        for field, former in cls.FORMER_NAMES.items():
            if field not in values and env.get(former, "").strip():
                values[field] = env[former].strip()
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as err:
            raise ConfigError(cls.describe(err)) from None

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable of a field, e.g. ``YUJING_PARTITIONS``."""
        return f"{cls.model_config.get('env_prefix') or ''}{field}".upper()

    @classmethod
    def describe(cls, err: ValidationError) -> str:
        """One line naming each bad variable, what was wrong and (unless secret) the value."""
        lines = []
        for e in err.errors(include_url=False):
            if e["type"] == "default_factory_not_called":
                continue  # a default that follows from another field, itself named
            msg = e["msg"].removeprefix("Value error, ")
            if not e["loc"]:  # a check across fields names its variables itself
                lines.append(msg)
                continue
            field = str(e["loc"][0])
            info = cls.model_fields.get(field)
            got = "<hidden>" if info and _is_secret(info.annotation) else repr(e["input"])
            lines.append(f"{cls.variable(field)}: {msg[:1].lower()}{msg[1:]}, got {got}")
        return "; ".join(lines)

    def given(self, field: str) -> bool:
        """Whether ``field`` was set (by its variable or an override), not defaulted."""
        if field not in type(self).model_fields:
            raise AttributeError(f"{type(self).__name__} has no field {field!r}")
        return field in self.model_fields_set


class Settings(KafkaSecuritySettings, EnvironmentSettings):
    """The worker's and the tools' settings: ``YUJING_<FIELD NAME IN UPPER CASE>``."""

    FORMER_NAMES: ClassVar[Mapping[str, str]] = {"district": ENV_PREFIX + "REGIONS"}

    #: The local broker's port (``yujing broker start``): the default bootstrap's.
    broker_port: Port = 9092
    #: Broker(s), comma-separated ``host:port``; default ``127.0.0.1:<broker_port>``.
    kafka_bootstrap: Annotated[str, AfterValidator(_bootstrap)] = Field(
        default_factory=lambda data: f"127.0.0.1:{data.get('broker_port', 9092)}", min_length=1
    )
    app_id: Annotated[str, AfterValidator(_kafka_name)] = Field("yujing", min_length=1)
    topic_prefix: Annotated[str, AfterValidator(_kafka_name)] = ""
    partitions: int = Field(2, ge=1)
    #: Replicas of every topic the pipeline creates (registry topics, changelogs); above 1,
    #: ``min.insync.replicas`` min(2, it), so a write acked by all is on two brokers.
    replication_factor: int = Field(1, ge=1, le=32767)
    web_host: str = Field("127.0.0.1", min_length=1)
    web_port: Port = 6066
    #: Bearer tokens (≥ 16 characters) of the risk map pages and of /metrics; unset: open.
    web_token: Token | None = None
    metrics_token: Token | None = None
    #: Inputs above this are dead-lettered (``too_large``), keeping their first this-many
    #: bytes. At most 704 KiB: the dead letter carries them in base64 (4/3 larger) and must
    #: itself fit in one produce request (1 MiB), or the worker would exit and re-read the
    #: same input for ever.
    max_message_bytes: int = Field(64 * 1024, ge=1024, le=704 * 1024)
    #: The same bound for a gateway batch record (``yujing.reading-batches.v1``): up to 500
    #: readings, so larger than one reading may be.
    max_batch_bytes: int = Field(512 * 1024, ge=1024, le=704 * 1024)
    #: Sensors whose detectors a worker keeps live in memory between commits; beyond it the
    #: least recently used unchanged ones are dropped and reload from the table when needed.
    live_keys: int = Field(100_000, ge=1)
    #: How long the producer waits to fill a batch before sending it (ms). 0: batches
    #: still fill while a partition's request is in flight (the detect agent's outputs
    #: are not awaited one by one); measured, 2 ms put ~700 ms on the p50 from a single
    #: reading to its order, every later hop awaiting its outputs one event at a time.
    producer_linger_ms: int = Field(0, ge=0, le=1000)
    #: The most bytes the producer puts in one partition's batch (Faust's default).
    #: Measured: 256 KiB took the p50 from a single reading to its order from 40 to
    #: 149 ms, the p99 from 534 to 1,369 ms.
    producer_batch_bytes: int = Field(16 * 1024, ge=1024, le=1024 * 1024)
    catalogue: Path = CONFIG_DIR / "catalogue.yaml"
    routes: Path = CONFIG_DIR / "routes.yaml"
    #: The district model (streams/config/district.yaml): places, sensors and the directory
    #: of responsible parties. ``YUJING_REGIONS``, its former name, is still read.
    district: Path = CONFIG_DIR / "district.yaml"
    sms_url: Annotated[str, AfterValidator(_http_url)] = "http://127.0.0.1:8701"
    voice_url: Annotated[str, AfterValidator(_http_url)] = "http://127.0.0.1:8702"
    delivery_max_attempts: int = Field(5, ge=1)
    delivery_backoff_s: Seconds = 0.2
    delivery_timeout_s: Annotated[Seconds, Field(gt=0)] = 5.0
    #: The worker's local data; default ``$XDG_DATA_HOME/yujing/worker/<faust_id>``
    #: (else ``~/.local/share/yujing/...``), never the working directory.
    data_dir: Path | None = None
    #: Detector state learnt from history (streams.core.signals.baseline): a key the worker
    #: holds no state for starts from its baseline instead of cold. None: every key starts cold.
    baselines: Path | None = None
    seed: int = 0
    #: Simulated clock (see streams.core.shared.clock): ISO-8601 with offset or Unix seconds.
    clock_epoch: str = ""
    clock_anchor: str = ""
    clock_speed: float = Field(1.0, gt=0, allow_inf_nan=False)
    #: Where a simulated clock stops (a simulated day that ends); empty: it never stops.
    clock_until: str = ""
    #: How far ahead of the worker's clock an input's event time may be (clock seconds;
    #: with a simulated clock, times its speed). Further ahead: dead-lettered as
    #: ``implausible_time``, before it can move a watermark or a window.
    max_clock_skew_s: Annotated[Seconds, Field(le=7 * 86400)] = 300.0
    #: How far behind the worker's clock an input's event time may be (clock seconds);
    #: unset: any age (replaying history). Older: dead-lettered as ``implausible_time``.
    event_horizon_s: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    #: When the pipeline began watching the district (ISO-8601 with offset or Unix seconds;
    #: empty: unknown). Rules judged against their past then count a scope's silent windows
    #: since as zeros and judge no window without a watched one before it.
    observed_from: str = ""
    #: How often (wall seconds) each partition gets a tick that checks its SLA deadlines.
    tick_interval_s: Annotated[Seconds, Field(ge=0.05, le=60)] = 1.0
    #: Pipeline-clock seconds a tick waits before judging a deadline or a re-check, for
    #: lifecycle updates (met at their own event time) and verdicts still on their way to
    #: the broker (those on it are read before a tick judges: ``runtime/readthrough.py``).
    sla_grace_s: Annotated[Seconds, Field(le=86400)] = 0.0
    #: Pipeline-clock seconds a lifecycle update that came before its own order (a field
    #: app reads the orders topic too) waits for it before it is dead-lettered.
    early_update_wait_s: Annotated[Seconds, Field(le=86400)] = 300.0
    #: Consumer group session timeout: how soon a killed worker's partitions move on.
    session_timeout_s: Annotated[Seconds, Field(ge=6, le=300)] = 30.0
    #: Seconds a source partition may sit stuck (its next record neither processed, nor
    #: being processed, nor buffered, with records behind it) before it is read again.
    stall_after_s: Annotated[Seconds, Field(ge=1, le=3600)] = 30.0
    #: Test-only fault injection (see the modules that read it): "die_after_breach"
    #: (streams.runtime.agents.track), "lose_handover:<registry topic>" (streams.runtime.consumer).
    failpoint: Annotated[str, AfterValidator(_failpoint)] = ""

    @model_validator(mode="after")
    def _clock(self) -> Self:
        from streams.core.shared.clock import make_clock

        try:
            make_clock(self.clock_epoch, self.clock_speed, self.clock_anchor, self.clock_until)
        except ConfigError as err:
            raise ValueError(f"{ENV_PREFIX}CLOCK_*: {err}") from None
        try:
            self.observed_since  # noqa: B018 (validated at load)
        except ConfigError as err:
            raise ValueError(str(err)) from None
        return self

    @property
    def observed_since(self) -> float | None:
        """:attr:`observed_from` in epoch seconds (None: unknown)."""
        from streams.core.shared.clock import parse_instant

        if not self.observed_from:
            return None
        return parse_instant(self.observed_from, f"{ENV_PREFIX}OBSERVED_FROM").timestamp()

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

    def topic(self, name: str) -> str:
        """The physical topic name for a registry topic name."""
        return f"{self.topic_prefix}{name}"


class BrokerSettings(EnvironmentSettings):
    """The local development broker's (``yujing broker``; streams.dev.broker)."""

    #: Where the broker keeps its files (``YUJING_HOME``), relative to the working directory.
    home: Path = Path(".yujing")
    broker_port: Port = 9092
    broker_controller_port: Port = 9093
    broker_heap_mb: int = Field(512, ge=128, le=65536)
    #: Kafka's jars; default ``$XDG_CACHE_HOME/yujing/kafka-<version>/libs``.
    kafka_libs: Path | None = None


class HostSettings(EnvironmentSettings):
    """The host's variables this program follows: ``HOME``, the XDG homes, ``JAVA_HOME``."""

    model_config = SettingsConfigDict(env_prefix="")

    home: Path | None = None
    xdg_data_home: Path | None = None
    xdg_cache_home: Path | None = None
    #: A Java 17+ installation for the local broker; else ``java`` on PATH.
    java_home: Path | None = None

    def _user_home(self) -> Path:
        return self.home if self.home is not None else Path.home()

    @property
    def data_home(self) -> Path:
        """``$XDG_DATA_HOME`` if absolute (the XDG rule), else ``~/.local/share``."""
        if self.xdg_data_home is not None and self.xdg_data_home.is_absolute():
            return self.xdg_data_home
        return self._user_home() / ".local" / "share"

    @property
    def cache_home(self) -> Path:
        """``$XDG_CACHE_HOME`` if absolute, else ``~/.cache``."""
        if self.xdg_cache_home is not None and self.xdg_cache_home.is_absolute():
            return self.xdg_cache_home
        return self._user_home() / ".cache"


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/yujing`` (an absolute one), else ``~/.local/share/yujing``.

    >>> default_data_dir({"XDG_DATA_HOME": "/srv/data", "HOME": "/home/a"})
    PosixPath('/srv/data/yujing')
    >>> default_data_dir({"XDG_DATA_HOME": "relative", "HOME": "/home/a"})
    PosixPath('/home/a/.local/share/yujing')
    """
    return HostSettings.from_env(environ).data_home / "yujing"
