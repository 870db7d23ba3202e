"""streams.core stays pure: importing all of it pulls in no Kafka or Faust library."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("faust", "aiokafka", "kafka", "mode")

_PROBE = """
import importlib, json, pkgutil, sys
import streams.core
names = ["streams.core"] + [
    m.name for m in pkgutil.walk_packages(streams.core.__path__, prefix="streams.core.")
]
for name in names:
    importlib.import_module(name)
loaded = sorted(
    m for m in sys.modules if m.split(".")[0] in {forbidden!r}
)
print(json.dumps({{"imported": names, "loaded": loaded}}))
"""


def test_streams_core_imports_no_kafka_or_faust() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(forbidden=set(FORBIDDEN))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    # The walk really did cover the package, subpackages included.
    assert {
        "streams.core.shared.catalogue",
        "streams.core.signals.detect",
        "streams.core.signals.detectors",
        "streams.core.signals.detectors.threshold",
        "streams.core.orders.routing",
        "streams.core.notifications.plan",
        "streams.core.notifications.retry",
    } <= set(result["imported"])
    assert result["loaded"] == [], (
        f"streams.core must not import {FORBIDDEN}; found {result['loaded']}"
    )
