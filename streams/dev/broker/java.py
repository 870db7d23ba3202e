"""Finding a Java 17+ to run Kafka on, and the command line that runs Kafka's classes.

Where this sits: development infrastructure, not in the event flow (the local
single-node KRaft broker started from Apache Kafka's own jars from Maven Central).

Kafka 4.x needs Java 17 or newer, both for the broker and for Maven fetching its
jars. The ``java`` used is ``$JAVA_HOME/bin/java`` if ``JAVA_HOME`` is set, else the
one on ``PATH``; a missing or older Java is a one-line :class:`BrokerError` that says
what to install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from streams.dev.broker.config import BrokerError
from streams.dev.broker.files import BrokerFiles
from streams.runtime.settings import HostSettings

__all__ = ["MIN_JAVA_MAJOR", "check_java", "java_executable", "java_major", "kafka_command"]

#: The oldest Java that runs Kafka 4.x.
MIN_JAVA_MAJOR = 17


def java_executable() -> str:
    """The ``java`` to run: ``$JAVA_HOME/bin/java`` if JAVA_HOME is set, else from PATH."""
    java_home = HostSettings.from_env().java_home
    if java_home is not None:
        candidate = Path(java_home) / "bin" / ("java.exe" if os.name == "nt" else "java")
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            raise BrokerError(
                f"JAVA_HOME is {java_home} but there is no java at {candidate}: "
                "point JAVA_HOME at a Java 17+ installation or unset it"
            )
        return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise BrokerError(
            "java not found on PATH: install OpenJDK 17 "
            "(e.g. apt-get install openjdk-17-jre-headless)"
        )
    return found


def java_major(version: str) -> int:
    """The major release of a ``java -version`` string; 0 if there is none.

    >>> [java_major(v) for v in ("17.0.15", "21", "1.8.0_292", "25-ea", "")]
    [17, 21, 8, 25, 0]
    """
    match = re.match(r"(\d+)(?:\.(\d+))?", version)
    if match is None:
        return 0
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_292" is Java 8
        return int(match.group(2))
    return major


def check_java(min_major: int = MIN_JAVA_MAJOR) -> str:
    """Return the version of the java :func:`java_executable` finds, e.g. ``"17.0.15"``.

    Raises :class:`BrokerError` if there is none or it is older than ``min_major``.
    """
    java = java_executable()
    try:
        proc = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BrokerError(f"could not run `{java} -version`: {exc}") from exc
    output = (proc.stderr or "") + (proc.stdout or "")
    match = re.search(r'version "([^"]+)"', output)
    if match is None:
        raise BrokerError(
            f"could not read the Java version from `{java} -version`: {output.strip()[:200]!r}"
        )
    version = match.group(1)
    if java_major(version) < min_major:
        raise BrokerError(
            f"Java {min_major} or newer is needed to run Kafka 4.x; found {version} ({java})"
        )
    return version


def kafka_command(java: str, libs: Path, files: BrokerFiles, *jvm_options: str) -> list[str]:
    """``java`` with Kafka's jars on the class path and its logging set up; the caller
    appends the main class and its arguments."""
    return [
        java,
        *jvm_options,
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={files.log4j_path}",
        f"-Dkafka.logs.dir={files.logs_dir}",
        "-cp",
        str(libs / "*"),
    ]
