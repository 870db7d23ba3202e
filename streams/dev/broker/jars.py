"""Kafka's own jars, fetched once from Maven Central: the ``yujing broker install`` step.

Where this sits: development infrastructure, not in the event flow (the local
single-node KRaft broker started from Apache Kafka's own jars from Maven Central).

The jars are resolved with ``mvn dependency:copy-dependencies`` from ``pom.xml`` next
to this module (pinned to :data:`~streams.dev.broker.config.KAFKA_VERSION`) into
``$YUJING_KAFKA_LIBS`` if set, else ``~/.cache/yujing/kafka-<version>/libs``, shared
by every home so test homes do not download them again. A marker file holding the
pom's digest says the copy finished; a changed pom fetches again. The copy is made in
a scratch directory and renamed into place, under a lock, so two processes never see
half a directory. A directory of Kafka's jars without the marker (e.g. a Kafka
distribution's ``libs/``) is used as it is.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from streams.dev.broker.config import (
    KAFKA_VERSION,
    SCALA_BINARY_VERSION,
    BrokerError,
    broker_settings,
)
from streams.dev.broker.files import file_lock, output_tail, resource_text
from streams.dev.broker.java import check_java
from streams.runtime.settings import HostSettings

__all__ = ["install_jars", "kafka_libs_dir"]

_INSTALLED_MARKER = ".yujing-installed"
_MVN_TIMEOUT_S = 1800


def kafka_libs_dir() -> Path:
    """Where the Kafka jars live: ``$YUJING_KAFKA_LIBS``, else the per-user cache."""
    override = broker_settings().kafka_libs
    if override is not None:
        return override.expanduser().resolve()
    cache = HostSettings.from_env().cache_home
    return (cache / "yujing" / f"kafka-{KAFKA_VERSION}" / "libs").resolve()


def install_jars() -> Path:
    """Make sure Kafka's jars are in :func:`kafka_libs_dir`; return that directory.

    Runs ``mvn dependency:copy-dependencies`` once; later calls only check the
    marker file written after a successful copy.
    """
    libs = kafka_libs_dir()
    pom = resource_text("pom.xml")
    digest = hashlib.sha256(pom.encode()).hexdigest()[:16]
    if _libs_ready(libs, digest):
        return libs
    with file_lock(libs.parent / f".{libs.name}.lock"):
        if _libs_ready(libs, digest):  # another process finished meanwhile
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError(
                f"mvn (Apache Maven) not found on PATH: it is needed once to fetch the "
                f"Kafka {KAFKA_VERSION} jars from Maven Central (e.g. apt-get install "
                "maven), or set YUJING_KAFKA_LIBS to a directory holding Kafka's jars"
            )
        check_java()
        _check_replaceable(libs)
        work = Path(tempfile.mkdtemp(prefix=f".{libs.name}-install-", dir=libs.parent))
        try:
            out = _fetch(mvn, pom, work)
            (out / _INSTALLED_MARKER).write_text(f"{digest}\n", "utf-8")
            if libs.exists():
                libs.rename(work / "stale")
            out.rename(libs)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return libs


def _fetch(mvn: str, pom: str, work: Path) -> Path:
    """Run mvn in ``work`` and return the directory it copied the jars into."""
    (work / "pom.xml").write_text(pom, "utf-8")
    out = work / "libs"
    cmd = [
        mvn,
        "-B",
        "-q",
        "-Dstyle.color=never",
        "-f",
        str(work / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={out}",
        "-DincludeScope=runtime",
    ]
    try:
        proc = subprocess.run(
            cmd, cwd=work, capture_output=True, text=True, timeout=_MVN_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokerError(
            f"mvn did not finish fetching the Kafka {KAFKA_VERSION} jars within "
            f"{exc.timeout:.0f} s; check the network access to Maven Central"
        ) from exc
    except OSError as exc:
        raise BrokerError(f"could not run mvn ({mvn}): {exc}") from exc
    if proc.returncode != 0:
        raise BrokerError(
            f"mvn failed (exit {proc.returncode}) fetching the Kafka "
            f"{KAFKA_VERSION} jars from Maven Central; last lines of its output:\n"
            + output_tail(proc.stdout + "\n" + proc.stderr)
        )
    if not list(out.glob(f"kafka_{SCALA_BINARY_VERSION}-*.jar")):
        raise BrokerError(f"mvn succeeded but left no Kafka jar in {out}")
    return out


def _libs_ready(libs: Path, digest: str) -> bool:
    marker = libs / _INSTALLED_MARKER
    if marker.is_file():
        return marker.read_text("utf-8").strip() == digest
    # Not ours, but a directory of Kafka's jars (e.g. a Kafka distribution's libs/
    # named by YUJING_KAFKA_LIBS): use it as it is.
    return any(libs.glob(f"kafka_{SCALA_BINARY_VERSION}-*.jar"))


def _check_replaceable(libs: Path) -> None:
    if not libs.exists():
        return
    if not libs.is_dir():
        raise BrokerError(
            f"{libs} exists and is not a directory; remove it or set YUJING_KAFKA_LIBS elsewhere"
        )
    ours = (libs / _INSTALLED_MARKER).is_file()
    if not ours and any(libs.iterdir()):
        raise BrokerError(
            f"{libs} is not empty and holds no Kafka jars; empty it or point "
            "YUJING_KAFKA_LIBS at another directory"
        )
