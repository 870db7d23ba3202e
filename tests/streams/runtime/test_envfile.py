"""YUJING_ENV_FILE: a file of KEY=VALUE lines under the environment, for every settings class."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.core.shared.config import ConfigError
from streams.runtime.envfile import read_env_file, with_env_file
from streams.runtime.settings import BrokerSettings, HostSettings, Settings


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "user.env"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_format_comments_blanks_export_and_quotes(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "# written by yujing broker start --secure\n"
        "\n"
        "YUJING_KAFKA_BOOTSTRAP=127.0.0.1:9192\n"
        "  export YUJING_KAFKA_SASL_USERNAME = alice  \n"
        "YUJING_KAFKA_SASL_PASSWORD='p#a=ss word'\n"
        'YUJING_TOPIC_PREFIX="qa."\n'
        "YUJING_APP_ID=\n"
        '   # an indented comment, and an empty quoted value:\nEMPTY=""\n',
    )
    assert read_env_file(path) == {
        "YUJING_KAFKA_BOOTSTRAP": "127.0.0.1:9192",
        "YUJING_KAFKA_SASL_USERNAME": "alice",
        "YUJING_KAFKA_SASL_PASSWORD": "p#a=ss word",
        "YUJING_TOPIC_PREFIX": "qa.",
        "YUJING_APP_ID": "",
        "EMPTY": "",
    }


def test_the_process_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = _file(tmp_path, "YUJING_PARTITIONS=4\nYUJING_APP_ID=from-file\nYUJING_SEED=7\n")
    env = {"YUJING_ENV_FILE": str(path), "YUJING_PARTITIONS": "6", "YUJING_SEED": " "}
    assert with_env_file(env)["YUJING_PARTITIONS"] == "6"
    s = Settings.from_env(env)
    assert (s.partitions, s.app_id, s.seed) == (6, "from-file", 7)  # a blank one is unset
    assert Settings.from_env(env, partitions=3).partitions == 3  # an override wins over both
    assert with_env_file({"YUJING_PARTITIONS": "1"}) == {"YUJING_PARTITIONS": "1"}


def test_every_settings_class_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(
        tmp_path, "YUJING_APP_ID=from-file\nYUJING_BROKER_HEAP_MB=300\nXDG_CACHE_HOME=/c\n"
    )
    for name in ("YUJING_APP_ID", "YUJING_BROKER_HEAP_MB", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("YUJING_ENV_FILE", str(path))
    assert Settings.from_env().app_id == "from-file"
    assert BrokerSettings.from_env().broker_heap_mb == 300
    assert HostSettings.from_env().xdg_cache_home == Path("/c")
    assert Settings.from_env({}).app_id == "yujing"  # a given environ is the only one read


def test_a_secured_brokers_file_gives_its_settings(tmp_path: Path) -> None:
    from pki import make_ca

    ca = make_ca(tmp_path / "tls")
    path = _file(
        tmp_path,
        "YUJING_KAFKA_BOOTSTRAP=127.0.0.1:9192\n"
        "YUJING_KAFKA_SECURITY_PROTOCOL=SASL_SSL\n"
        "YUJING_KAFKA_SASL_MECHANISM=SCRAM-SHA-512\n"
        "YUJING_KAFKA_SASL_USERNAME=alice\n"
        "YUJING_KAFKA_SASL_PASSWORD=alice-secret\n"
        f"YUJING_KAFKA_SSL_CAFILE={ca.cert}\n",
    )
    s = Settings.from_env({"YUJING_ENV_FILE": str(path)})
    assert s.kafka_bootstrap == "127.0.0.1:9192" and s.given("kafka_bootstrap")
    assert s.kafka_security.describe() == "SASL_SSL, SCRAM-SHA-512 as 'alice'"
    assert s.kafka_security.cafile == ca.cert


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("A=1\nthis is not a setting: s3cr3t\n", 2),
        ("\n\n# ok\nPASSWORD='s3cr3t\n", 4),
        ("X=\"s3cr3t'\n", 1),
        ("1A=s3cr3t\n", 1),
        ("=s3cr3t\n", 1),
    ],
)
def test_a_bad_line_names_the_file_and_the_line_not_its_content(
    tmp_path: Path, text: str, line: int
) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"YUJING_ENV_FILE": str(path)})
    assert str(info.value) == f"YUJING_ENV_FILE: {path}, line {line}: not KEY=VALUE"


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nobody.env"
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"YUJING_ENV_FILE": str(missing)})
    assert str(info.value) == f"YUJING_ENV_FILE: cannot read {missing} (No such file or directory)"
