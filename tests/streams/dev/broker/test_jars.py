"""Tests of fetching Kafka's jars (streams.dev.broker.jars), without touching the network.

The real fetch from Maven Central runs in ``make setup`` (``yujing broker install``)
and before every real start; these tests cover where the jars go and what the user
is told when the fetch cannot happen.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from streams.dev.broker import KAFKA_VERSION, BrokerConfig, BrokerError, LocalBroker, kafka_libs_dir
from streams.dev.broker.config import SCALA_BINARY_VERSION
from streams.dev.broker.files import resource_text
from streams.dev.broker.jars import install_jars
from streams.dev.broker.java import java_executable


@pytest.fixture
def only_java_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH is an empty directory (add stand-ins to it); JAVA_HOME is this machine's
    Java, so the Java check passes. Returns the PATH directory."""
    try:
        java = Path(java_executable()).resolve()
    except BrokerError as exc:
        pytest.skip(f"no java here: {exc}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("JAVA_HOME", str(java.parent.parent))
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def _stand_in_mvn(bin_dir: Path, script: str) -> None:
    mvn = bin_dir / "mvn"
    mvn.write_text("#!/bin/sh\n" + script)
    mvn.chmod(0o755)


def test_the_pom_fetches_the_release_the_broker_runs() -> None:
    pom = ET.fromstring(resource_text("pom.xml"))
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    assert pom.findtext("m:properties/m:kafka.version", namespaces=ns) == KAFKA_VERSION
    scala = pom.findtext("m:properties/m:scala.binary.version", namespaces=ns)
    assert scala == SCALA_BINARY_VERSION


def test_libs_dir_is_the_env_override_else_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YUJING_KAFKA_LIBS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert kafka_libs_dir() == tmp_path / "cache" / "yujing" / f"kafka-{KAFKA_VERSION}" / "libs"
    monkeypatch.setenv("YUJING_KAFKA_LIBS", str(tmp_path / "mine"))
    assert kafka_libs_dir() == tmp_path / "mine"


def test_install_without_mvn_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUJING_KAFKA_LIBS", str(tmp_path / "libs"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerError, match=r"mvn \(Apache Maven\) not found on PATH"):
        LocalBroker(BrokerConfig(home=tmp_path)).install()


def test_a_directory_of_kafka_jars_is_used_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # e.g. a Kafka distribution's libs/: no mvn needed, nothing written into it.
    libs = tmp_path / "kafka" / "libs"
    libs.mkdir(parents=True)
    (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").write_bytes(b"")
    monkeypatch.setenv("YUJING_KAFKA_LIBS", str(libs))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert install_jars() == libs
    assert sorted(p.name for p in libs.iterdir()) == [f"kafka_2.13-{KAFKA_VERSION}.jar"]


def test_a_foreign_directory_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, only_java_on_path: Path
) -> None:
    libs = tmp_path / "libs"
    libs.mkdir()
    (libs / "notes.txt").write_text("mine")
    monkeypatch.setenv("YUJING_KAFKA_LIBS", str(libs))
    _stand_in_mvn(only_java_on_path, "echo should not run >&2; exit 1\n")
    with pytest.raises(BrokerError, match="is not empty and holds no Kafka jars"):
        install_jars()
    assert (libs / "notes.txt").read_text() == "mine"


def test_a_failing_mvn_is_reported_with_its_last_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, only_java_on_path: Path
) -> None:
    libs = tmp_path / "cache" / "libs"
    monkeypatch.setenv("YUJING_KAFKA_LIBS", str(libs))
    _stand_in_mvn(
        only_java_on_path,
        "echo '[ERROR] Could not transfer artifact from central' >&2\nexit 1\n",
    )
    with pytest.raises(BrokerError, match=r"mvn failed \(exit 1\)") as raised:
        install_jars()
    assert str(raised.value).endswith("[ERROR] Could not transfer artifact from central")
    # Nothing half-done is left: no libs directory, no scratch directory.
    assert sorted(p.name for p in libs.parent.iterdir()) == [".libs.lock"]
