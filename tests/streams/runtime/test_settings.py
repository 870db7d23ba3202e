"""Settings from YUJING_* (and the host's) environment variables: types, defaults, errors."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from streams.core.orders.routing import DEFAULT_PATH as DEFAULT_ROUTES
from streams.core.shared.catalogue import DEFAULT_PATH as DEFAULT_CATALOGUE
from streams.core.shared.config import ConfigError
from streams.core.shared.district import DEFAULT_PATH as DEFAULT_DISTRICT
from streams.runtime.kafka_security import KafkaSecuritySettings
from streams.runtime.settings import (
    ENV_PREFIX,
    BrokerSettings,
    EnvironmentSettings,
    HostSettings,
    Settings,
    default_data_dir,
)


def test_an_empty_environment_gives_the_defaults() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert (s.app_id, s.topic_prefix, s.faust_id) == ("yujing", "", "yujing")
    assert (s.partitions, s.web_host, s.web_port) == (2, "127.0.0.1", 6066)
    assert (s.max_message_bytes, s.delivery_max_attempts) == (65536, 5)
    assert (s.sms_url, s.voice_url) == ("http://127.0.0.1:8701", "http://127.0.0.1:8702")
    assert (s.delivery_backoff_s, s.delivery_timeout_s) == (0.2, 5.0)
    assert (s.tick_interval_s, s.session_timeout_s, s.stall_after_s) == (1.0, 30.0, 30.0)
    assert (s.clock_epoch, s.clock_anchor, s.clock_speed) == ("", "", 1.0)
    assert (s.data_dir, s.seed, s.failpoint) == (None, 0, "")
    assert s.model_fields_set == set()


def test_the_default_files_are_the_packaged_ones() -> None:
    s = Settings()
    assert (s.catalogue, s.routes, s.district) == (
        DEFAULT_CATALOGUE,
        DEFAULT_ROUTES,
        DEFAULT_DISTRICT,
    )
    assert all(p.is_file() for p in (s.catalogue, s.routes, s.district))


def test_the_default_data_directory_is_under_the_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    s = Settings.from_env({"YUJING_TOPIC_PREFIX": "qa0."})
    assert s.data_path == tmp_path / "xdg/yujing/worker/qa0.yujing"
    assert Settings(data_dir=tmp_path / "w").data_path == tmp_path / "w"


def test_values_are_read_and_converted() -> None:
    s = Settings.from_env(
        {
            "YUJING_KAFKA_BOOTSTRAP": "kafka-1:9093, kafka-2:9093",
            "YUJING_PARTITIONS": " 6 ",
            "YUJING_WEB_PORT": "7000",
            "YUJING_DELIVERY_BACKOFF_S": "0.05",
            "YUJING_CATALOGUE": "/etc/yujing/catalogue.yaml",
            "YUJING_TOPIC_PREFIX": "staging.",
            "KAFKA_BOOTSTRAP": "ignored:1",  # no prefix
            "yujing_partitions": "9",  # wrong case
            "YUJING_UNKNOWN": "ignored",  # not a setting
        }
    )
    assert s.kafka_bootstrap == "kafka-1:9093, kafka-2:9093"
    assert s.partitions == 6
    assert s.web_port == 7000
    assert s.delivery_backoff_s == 0.05
    assert s.catalogue == Path("/etc/yujing/catalogue.yaml")
    assert s.topic("yujing.readings.v1") == "staging.yujing.readings.v1"


#: A valid value, unlike the default, for every field whose type alone does not give one.
VALID_RAW = {
    "kafka_bootstrap": "kafka-1:9093,[::1]:9094",
    "sms_url": "https://sms.example:8443/send",
    "voice_url": "http://voice.example",
    "clock_epoch": "2026-03-01T08:00:00+08:00",
    "clock_anchor": "1767225600",
    "clock_until": "2099-01-01T00:00:00+00:00",
    "observed_from": "2026-03-01T00:00:00+08:00",
    "session_timeout_s": "45.5",
    "failpoint": "lose_handover:yujing.readings.v1",
    "home": "/srv/yujing-home",
    "producer_linger_ms": "40",
    "event_horizon_s": "604800.5",
    "web_token": "web-token-0123456789",
    "metrics_token": "metrics-token-0123456789",
}
#: fields whose default is None (unset) that are not paths
NOT_PATHS: dict[str, type] = {
    "event_horizon_s": float,
    "web_token": SecretStr,
    "metrics_token": SecretStr,
}


def _raw_for(default: Any, field: str) -> str:
    if field in VALID_RAW:
        return VALID_RAW[field]
    return {int: "4096", float: "1.5", str: "custom"}.get(type(default), "/tmp/custom")


#: Set together or not at all (a login needs a user and a password): test_kafka_security.py
TOGETHER = set(KafkaSecuritySettings.model_fields)


def _every_field(cls: type[EnvironmentSettings]) -> list[tuple[type[EnvironmentSettings], str]]:
    return [(cls, name) for name in cls.model_fields if name not in TOGETHER]


@pytest.mark.parametrize(
    ("cls", "field"),
    _every_field(Settings) + _every_field(BrokerSettings) + _every_field(HostSettings),
)
def test_every_field_can_be_set_from_its_variable(
    cls: type[EnvironmentSettings], field: str
) -> None:
    default = getattr(cls(), field)
    raw = _raw_for(default, field)
    assert raw != str(default)
    variable = cls.variable(field)
    assert variable == cls.model_config["env_prefix"] + field.upper()
    s = cls.from_env({variable: raw})
    value = getattr(s, field)
    # fields whose default is None (no directory given) are paths, but for NOT_PATHS
    unset = NOT_PATHS.get(field, type(Path()))
    assert type(value) is (unset if default is None else type(default))
    assert (value.get_secret_value() if isinstance(value, SecretStr) else str(value)) == raw
    assert s.given(field)
    assert [f for f in cls.model_fields if s.given(f)] == [field]


def test_the_variable_names_are_the_documented_ones() -> None:
    assert {Settings.variable(f) for f in Settings.model_fields} >= {
        "YUJING_KAFKA_BOOTSTRAP",
        "YUJING_REPLICATION_FACTOR",
        "YUJING_DATA_DIR",
        "YUJING_CLOCK_EPOCH",
        "YUJING_TICK_INTERVAL_S",
        "YUJING_FAILPOINT",
    }
    assert {BrokerSettings.variable(f) for f in BrokerSettings.model_fields} == {
        "YUJING_HOME",
        "YUJING_BROKER_PORT",
        "YUJING_BROKER_CONTROLLER_PORT",
        "YUJING_BROKER_HEAP_MB",
        "YUJING_KAFKA_LIBS",
    }
    assert {HostSettings.variable(f) for f in HostSettings.model_fields} == {
        "HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "JAVA_HOME",
    }


def test_an_empty_or_blank_variable_counts_as_unset() -> None:
    s = Settings.from_env({"YUJING_KAFKA_BOOTSTRAP": "", "YUJING_PARTITIONS": "  ", "YUJING_X": ""})
    assert s == Settings()


def test_the_bootstrap_defaults_to_the_local_brokers_port() -> None:
    s = Settings.from_env({"YUJING_BROKER_PORT": "39999"})
    assert s.kafka_bootstrap == "127.0.0.1:39999"
    assert not s.given("kafka_bootstrap")  # a default, not a broker someone named
    both = {"YUJING_BROKER_PORT": "39999", "YUJING_KAFKA_BOOTSTRAP": "kafka:9092"}
    assert Settings.from_env(both).kafka_bootstrap == "kafka:9092"
    assert Settings.from_env(both).given("kafka_bootstrap")


def test_the_district_is_still_read_under_its_former_name() -> None:
    assert Settings.from_env({"YUJING_REGIONS": "/a.yaml"}).district == Path("/a.yaml")
    both = {"YUJING_REGIONS": "/a.yaml", "YUJING_DISTRICT": "/b.yaml"}
    assert Settings.from_env(both).district == Path("/b.yaml")


def _error(cls: type[EnvironmentSettings], environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        cls.from_env(environ)
    message = str(info.value)
    assert "\n" not in message, message  # one line ...
    assert "validation error" not in message and "errors.pydantic.dev" not in message  # ... ours
    return message


def test_a_bad_value_is_one_line_naming_the_variable_and_the_value() -> None:
    assert _error(Settings, {"YUJING_PARTITIONS": "two"}) == (
        "YUJING_PARTITIONS: input should be a valid integer, unable to parse string as an"
        " integer, got 'two'"
    )
    two = _error(Settings, {"YUJING_PARTITIONS": "0", "YUJING_WEB_PORT": "70000"})
    assert two == (
        "YUJING_PARTITIONS: input should be greater than or equal to 1, got '0'; "
        "YUJING_WEB_PORT: input should be less than or equal to 65535, got '70000'"
    )


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("YUJING_PARTITIONS", "two"),
        ("YUJING_REPLICATION_FACTOR", "three"),
        ("YUJING_WEB_PORT", "80.5"),
        ("YUJING_MAX_MESSAGE_BYTES", "64k"),
        ("YUJING_DELIVERY_BACKOFF_S", "fast"),
        ("YUJING_DELIVERY_BACKOFF_S", "nan"),
        ("YUJING_STALL_AFTER_S", "inf"),
        ("YUJING_SEED", "0x1f"),
        ("YUJING_KAFKA_BOOTSTRAP", "kafka 1:9092"),
        ("YUJING_KAFKA_BOOTSTRAP", "kafka-1:9092,kafka-2:99999"),
        ("YUJING_KAFKA_BOOTSTRAP", "kafka-1:port"),
        ("YUJING_SMS_URL", "127.0.0.1:8701"),
        ("YUJING_VOICE_URL", "http://127.0.0.1:voice"),
        ("YUJING_TOPIC_PREFIX", "qa 0/"),
        ("YUJING_APP_ID", "yu jing"),
        ("YUJING_FAILPOINT", "die_after_breech"),
    ],
)
def test_a_malformed_value_names_the_variable(name: str, raw: str) -> None:
    assert _error(Settings, {name: raw}).startswith(f"{name}: ")
    assert _error(Settings, {name: raw}).endswith(f", got {raw!r}")


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("YUJING_PARTITIONS", "0"),
        ("YUJING_REPLICATION_FACTOR", "0"),
        ("YUJING_MAX_MESSAGE_BYTES", "1000"),
        ("YUJING_MAX_MESSAGE_BYTES", "1048576"),
        ("YUJING_DELIVERY_MAX_ATTEMPTS", "0"),
        ("YUJING_DELIVERY_BACKOFF_S", "-0.1"),
        ("YUJING_DELIVERY_TIMEOUT_S", "0"),
        ("YUJING_CLOCK_SPEED", "0"),
        ("YUJING_CLOCK_SPEED", "-60"),
        ("YUJING_TICK_INTERVAL_S", "0.01"),
        ("YUJING_TICK_INTERVAL_S", "61"),
        ("YUJING_SESSION_TIMEOUT_S", "5.9"),
        ("YUJING_SESSION_TIMEOUT_S", "301"),
        ("YUJING_STALL_AFTER_S", "0.5"),
        ("YUJING_STALL_AFTER_S", "3601"),
        ("YUJING_WEB_PORT", "0"),
        ("YUJING_BROKER_PORT", "65536"),
    ],
)
def test_out_of_range_values_name_the_variable(name: str, raw: str) -> None:
    assert _error(Settings, {name: raw}).startswith(f"{name}: input should be ")


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("YUJING_BROKER_PORT", "kafka"),
        ("YUJING_BROKER_CONTROLLER_PORT", "0"),
        ("YUJING_BROKER_HEAP_MB", "64"),
    ],
)
def test_a_bad_broker_value_names_the_variable(name: str, raw: str) -> None:
    assert _error(BrokerSettings, {name: raw}).startswith(f"{name}: ")


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("YUJING_CLOCK_EPOCH", "yesterday", "clock epoch 'yesterday' is neither ISO-8601"),
        ("YUJING_CLOCK_EPOCH", "2026-03-01T08:00:00", "needs a UTC offset"),
        ("YUJING_CLOCK_ANCHOR", "custom", "clock anchor 'custom' is neither ISO-8601"),
    ],
)
def test_a_bad_clock_names_the_clock_variables(name: str, raw: str, expected: str) -> None:
    message = _error(Settings, {name: raw})
    assert message.startswith("YUJING_CLOCK_*: ")
    assert expected in message


#: Each numeric variable and whether it is a whole number.
NUMBERS = [
    (Settings, Settings.variable(name), info.annotation is int)
    for name, info in Settings.model_fields.items()
    if info.annotation in (int, float)
] + [(BrokerSettings, BrokerSettings.variable(n), True) for n in ("broker_port", "broker_heap_mb")]


@settings(max_examples=200, deadline=None)
@given(
    number=st.sampled_from(NUMBERS),
    raw=st.text(alphabet=string.ascii_letters + string.punctuation + " ", min_size=1).filter(
        lambda s: s.strip() != ""
    ),
)
def test_any_non_number_names_its_variable_and_value(
    number: tuple[type[EnvironmentSettings], str, bool], raw: str
) -> None:
    cls, name, _ = number
    assert _error(cls, {name: raw}) == _error(cls, {name: raw})  # deterministic
    message = _error(cls, {name: raw})
    assert message.startswith(f"{name}: ")
    assert message.endswith(f", got {raw.strip()!r}")


@settings(max_examples=200, deadline=None)
@given(number=st.sampled_from(NUMBERS), value=st.floats(allow_nan=True, allow_infinity=True))
def test_any_number_is_read_or_refused_by_name(
    number: tuple[type[EnvironmentSettings], str, bool], value: float
) -> None:
    cls, name, whole = number
    raw = repr(value)
    try:
        s = cls.from_env({name: raw})
    except ConfigError as err:
        assert str(err).startswith(f"{name}: "), err
        assert "\n" not in str(err)
        return
    read = getattr(s, name.removeprefix(ENV_PREFIX).lower())
    assert read == (int(value) if whole else value)


def test_overrides_win_over_the_environment_unless_none() -> None:
    env = {"YUJING_PARTITIONS": "6", "YUJING_APP_ID": "from-env"}
    s = Settings.from_env(env, partitions=3, app_id=None)
    assert s.partitions == 3
    assert s.app_id == "from-env"


def test_overrides_are_checked_too() -> None:
    with pytest.raises(ConfigError, match="PARTITIONS"):
        Settings.from_env({}, partitions=0)
    with pytest.raises(ConfigError, match="extra inputs are not permitted"):
        Settings.from_env({}, partition=3)


def test_without_an_environ_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YUJING_APP_ID", "from-process")
    assert Settings.from_env().app_id == "from-process"
    assert Settings.from_env({}).app_id == "yujing"  # a given environ is the only one read
    assert Settings().app_id == "yujing"  # the constructor reads no environment


def test_settings_are_immutable() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        Settings().partitions = 9  # type: ignore[misc]


def test_given_refuses_a_name_that_is_no_field() -> None:
    with pytest.raises(AttributeError, match="partition"):
        Settings().given("partition")


def test_the_host_directories_follow_xdg() -> None:
    host = HostSettings.from_env({"HOME": "/home/a", "XDG_CACHE_HOME": "/var/cache/a"})
    assert (host.data_home, host.cache_home) == (Path("/home/a/.local/share"), Path("/var/cache/a"))
    relative = HostSettings.from_env({"HOME": "/home/a", "XDG_DATA_HOME": "data"})
    assert relative.data_home == Path("/home/a/.local/share")  # a relative one is ignored
    assert default_data_dir({"XDG_DATA_HOME": "/srv"}) == Path("/srv/yujing")


# --------------------------------------------------------------------------- bools, secrets


class _Probe(EnvironmentSettings):
    """What a bool or a secret setting gets from the shared machinery."""

    flag: bool = False
    token: SecretStr = SecretStr("")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(raw, True) for raw in ("true", "True", "1", "yes", "on")],
        *[(raw, False) for raw in ("false", "FALSE", "0", "no", "off")],
    ],
)
def test_a_bool_reads_the_usual_spellings(raw: str, expected: bool) -> None:
    assert _Probe.from_env({"YUJING_FLAG": raw}).flag is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "-1", "tru", "y e s"])
def test_a_bad_bool_names_the_variable(raw: str) -> None:
    assert _error(_Probe, {"YUJING_FLAG": raw}) == (
        f"YUJING_FLAG: input should be a valid boolean, unable to interpret input, got {raw!r}"
    )


def test_a_secret_never_prints_in_clear() -> None:
    probe = _Probe.from_env({"YUJING_TOKEN": "s3cr3t"})
    assert probe.token.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(probe) and "s3cr3t" not in str(probe)
    with pytest.raises(ConfigError) as info:
        _Probe.from_env({}, token=["s3cr3t"])
    assert str(info.value).startswith("YUJING_TOKEN: ") and str(info.value).endswith("<hidden>")
    assert "s3cr3t" not in str(info.value)


def test_the_start_of_observation_is_validated_at_load() -> None:
    env = {"YUJING_OBSERVED_FROM": "2026-03-02T00:00:00+08:00"}
    assert Settings.from_env(env).observed_since == 1772380800.0  # 2026-03-01T16:00Z
    assert Settings.from_env({}).observed_since is None
    with pytest.raises(ValueError, match="YUJING_OBSERVED_FROM 'yesterday'"):
        Settings.from_env({"YUJING_OBSERVED_FROM": "yesterday"})
