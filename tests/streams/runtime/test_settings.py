"""Worker settings from YUJING_* environment variables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from streams.core.orders.routing import DEFAULT_PATH as DEFAULT_ROUTES
from streams.core.shared.catalogue import DEFAULT_PATH as DEFAULT_CATALOGUE
from streams.core.shared.config import ConfigError
from streams.runtime.settings import ENV_PREFIX, Settings


def test_an_empty_environment_gives_the_defaults() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.catalogue == DEFAULT_CATALOGUE
    assert s.routes == DEFAULT_ROUTES


def test_values_are_read_and_converted() -> None:
    s = Settings.from_env(
        {
            "YUJING_KAFKA_BOOTSTRAP": "kafka-1:9093,kafka-2:9093",
            "YUJING_PARTITIONS": "6",
            "YUJING_WEB_PORT": "7000",
            "YUJING_DELIVERY_BACKOFF_S": "0.05",
            "YUJING_CATALOGUE": "/etc/yujing/catalogue.yaml",
            "YUJING_TOPIC_PREFIX": "staging.",
            "KAFKA_BOOTSTRAP": "ignored:1",  # no prefix
            "yujing_partitions": "9",  # wrong case
        }
    )
    assert s.kafka_bootstrap == "kafka-1:9093,kafka-2:9093"
    assert s.partitions == 6
    assert s.web_port == 7000
    assert s.delivery_backoff_s == 0.05
    assert s.catalogue == Path("/etc/yujing/catalogue.yaml")
    assert s.topic("yujing.readings.v1") == "staging.yujing.readings.v1"


#: Fields whose values are checked beyond their type get a valid non-default value of their own.
VALID_RAW = {
    "clock_epoch": "2026-03-01T08:00:00+08:00",
    "clock_anchor": "1767225600",
    "session_timeout_s": "45.5",
}


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Settings)])
def test_every_field_can_be_set_from_the_environment(field: str) -> None:
    default = getattr(Settings(), field)
    raw = VALID_RAW.get(field) or {int: "4096", float: "1.5", str: "custom"}.get(
        type(default), "/tmp/custom"
    )
    assert raw != str(default)
    s = Settings.from_env({ENV_PREFIX + field.upper(): raw})
    value = getattr(s, field)
    # data_dir's default is None: the data home's directory for this run (Settings.data_path)
    assert type(value) is (type(Path()) if field == "data_dir" else type(default))
    assert str(value) == raw


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("YUJING_PARTITIONS", "two"),
        ("YUJING_WEB_PORT", "80.5"),
        ("YUJING_MAX_MESSAGE_BYTES", ""),
        ("YUJING_DELIVERY_BACKOFF_S", "fast"),
    ],
)
def test_a_bad_number_names_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: raw})
    assert f"{name}={raw!r}" in str(info.value)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("YUJING_PARTITIONS", "0"),
        ("YUJING_MAX_MESSAGE_BYTES", "1000"),
        ("YUJING_DELIVERY_MAX_ATTEMPTS", "0"),
        ("YUJING_CLOCK_SPEED", "0"),
        ("YUJING_CLOCK_SPEED", "-60"),
        ("YUJING_TICK_INTERVAL_S", "0.01"),
        ("YUJING_TICK_INTERVAL_S", "61"),
        ("YUJING_SESSION_TIMEOUT_S", "5.9"),
        ("YUJING_SESSION_TIMEOUT_S", "301"),
    ],
)
def test_out_of_range_values_name_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: raw})


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("YUJING_CLOCK_EPOCH", "yesterday", "clock epoch 'yesterday' is neither ISO-8601"),
        ("YUJING_CLOCK_EPOCH", "2026-03-01T08:00:00", "needs a UTC offset"),
        ("YUJING_CLOCK_ANCHOR", "custom", "clock anchor 'custom' is neither ISO-8601"),
    ],
)
def test_a_bad_clock_names_the_clock_variables(name: str, raw: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: raw})
    assert "YUJING_CLOCK_*" in str(info.value)
    assert expected in str(info.value)


def test_overrides_win_over_the_environment_unless_none() -> None:
    env = {"YUJING_PARTITIONS": "6", "YUJING_APP_ID": "from-env"}
    s = Settings.from_env(env, partitions=3, app_id=None)
    assert s.partitions == 3
    assert s.app_id == "from-env"


def test_overrides_are_checked_too() -> None:
    with pytest.raises(ConfigError, match="PARTITIONS"):
        Settings.from_env({}, partitions=0)


def test_without_an_environ_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YUJING_APP_ID", "from-process")
    assert Settings.from_env().app_id == "from-process"


def test_settings_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().partitions = 9  # type: ignore[misc]
