"""Tests of finding Java 17+ for the local broker (streams.dev.broker.java)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from streams.dev.broker import BrokerError, check_java, java_executable
from streams.dev.broker.files import BrokerFiles
from streams.dev.broker.java import java_major, kafka_command


def _fake_java_home(tmp_path: Path, version_line: str) -> Path:
    """A JAVA_HOME whose bin/java prints ``version_line`` the way java -version does."""
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            echo '{version_line}' >&2
            """
        )
    )
    java.chmod(0o755)
    return tmp_path


def test_check_java_reports_java_home_without_java(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(BrokerError, match=r"JAVA_HOME is .* but there is no java"):
        check_java()


def test_check_java_reports_missing_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerError, match="java not found on PATH: install OpenJDK 17"):
        check_java()


def test_check_java_reports_old_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(_fake_java_home(tmp_path, 'java version "1.8.0_292"')))
    with pytest.raises(
        BrokerError, match=r"Java 17 or newer is needed to run Kafka 4.x; found 1.8.0_292"
    ):
        check_java()


def test_check_java_reports_an_unreadable_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(_fake_java_home(tmp_path, "Segmentation fault")))
    with pytest.raises(BrokerError, match=r"could not read the Java version from .*Segmentation"):
        check_java()


def test_check_java_accepts_the_java_on_this_machine() -> None:
    try:
        java = java_executable()
    except BrokerError as exc:
        pytest.skip(f"no java here: {exc}")
    try:
        version = check_java()
    except BrokerError as exc:
        assert "or newer is needed" in str(exc), exc  # an old java, said clearly
        return
    assert java_major(version) >= 17, (java, version)


def test_kafka_command_puts_every_jar_on_the_class_path(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path)
    libs = tmp_path / "libs"
    cmd = kafka_command("/usr/bin/java", libs, files, "-Xmx512m")
    assert cmd[:2] == ["/usr/bin/java", "-Xmx512m"]
    assert cmd[-2:] == ["-cp", f"{libs}/*"]
    assert f"-Dlog4j2.configurationFile={files.log4j_path}" in cmd
    assert f"-Dkafka.logs.dir={files.logs_dir}" in cmd
