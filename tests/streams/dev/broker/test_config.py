"""Tests of the local broker's configuration (streams.dev.broker.config), no broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.dev.broker import BrokerConfig, BrokerError


def test_config_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUJING_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("YUJING_BROKER_PORT", "19092")
    monkeypatch.setenv("YUJING_BROKER_CONTROLLER_PORT", "19093")
    monkeypatch.setenv("YUJING_BROKER_HEAP_MB", "384")
    config = BrokerConfig.from_env()
    assert config.home == (tmp_path / "home").resolve()
    assert (config.port, config.controller_port, config.heap_mb) == (19092, 19093, 384)
    assert config.bootstrap == "127.0.0.1:19092"

    monkeypatch.setenv("YUJING_BROKER_PORT", "kafka")
    with pytest.raises(BrokerError, match="YUJING_BROKER_PORT"):
        BrokerConfig.from_env()


def test_defaults_and_a_relative_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("YUJING_HOME", "YUJING_BROKER_PORT", "YUJING_BROKER_CONTROLLER_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    config = BrokerConfig.from_env()
    assert config.home == tmp_path.resolve() / ".yujing"
    assert (config.port, config.controller_port) == (9092, 9093)
    assert BrokerConfig(home=Path("rel")).home == tmp_path.resolve() / "rel"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"port": 0}, "port must be between 1 and 65535, got 0"),
        ({"controller_port": 65536}, "controller_port must be between 1 and 65535, got 65536"),
        ({"heap_mb": 64}, "heap_mb must be at least 128, got 64"),
        ({"port": 9093}, r"must differ \(both are 9093\)"),
    ],
)
def test_a_bad_config_is_one_clear_error(
    tmp_path: Path, changes: dict[str, int], message: str
) -> None:
    with pytest.raises(BrokerError, match=message):
        BrokerConfig(home=tmp_path, **changes)
