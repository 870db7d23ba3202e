"""``yujing district-day`` end to end on the real broker: a small day, its line's invariants.

The command runs as a user would run it against a configured broker
(``YUJING_KAFKA_BOOTSTRAP``, a fresh ``YUJING_TOPIC_PREFIX``, its own stub and web
ports): stubs, two workers, the simulator and its people on an accelerated
clock. Its last line must hold the issue's keys and invariants — nothing lost,
no notification accepted twice, exactly the breaches its people made
inevitable — and its figures must agree with a plain recomputation from the
topics it leaves in place (``report_oracle``: raw JSON, nothing of
``streams.core``), the ground truth and the stubs' lists it kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from report_oracle import oracle, records_as_json, stub_keys

from schemas.registry import (
    ALERTS,
    DISPATCH_ORDERS,
    NOTIFICATIONS,
    ORDER_STATUS,
    RECEIPTS,
    SLA_BREACHES,
)
from streams.dev.broker import find_free_port
from streams.runtime.kafka_io import read_to_end
from streams.tools.day.outcome import KEYS

pytestmark = pytest.mark.integration

#: the topics the report's figures come from, by the oracle's names
TOPICS = {
    "alerts": ALERTS,
    "orders": DISPATCH_ORDERS,
    "statuses": ORDER_STATUS,
    "breaches": SLA_BREACHES,
    "notifications": NOTIFICATIONS,
    "receipts": RECEIPTS,
}

SMALL = ["--towns", "1", "--communities", "4", "--sites", "3", "--hours", "4"]
SMALL += ["--minutes", "2", "--incidents", "150", "--history-days", "2", "--seed", "3"]
SMALL += ["--regional", "1", "--industry", "0", "--trend", "0", "--comprehensive", "0"]


def _two_ports() -> int:
    for _ in range(20):
        port = find_free_port()
        if port < 65535 and port + 1 != find_free_port():
            return port
    return find_free_port()


def test_a_small_district_day_keeps_its_invariants_and_its_figures_recompute(
    kafka_bootstrap: str, unique_prefix: str, tmp_path: Path
) -> None:
    prefix = unique_prefix + "."
    env = {
        **os.environ,
        "YUJING_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "YUJING_TOPIC_PREFIX": prefix,
        "YUJING_SMS_URL": f"http://127.0.0.1:{find_free_port()}",
        "YUJING_VOICE_URL": f"http://127.0.0.1:{find_free_port()}",
        "YUJING_WEB_PORT": str(_two_ports()),  # the second worker takes the next port
        "XDG_DATA_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "district-day", *SMALL, "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    line = json.loads(done.stdout.strip().splitlines()[-1])

    # the line: exactly the keys, and its invariants on a day that did something
    assert tuple(line) == KEYS
    assert line["sensors"] > 0 and line["incidents"] > 0, line
    assert line["alerts"] > 0 and line["orders"] > 0, line
    assert line["lost"] == 0, done.stdout[-3000:]
    assert line["duplicate_notifications"] == 0, line
    assert line["sla_breaches_observed"] == line["sla_breaches_expected"], done.stdout[-3000:]
    assert line["wall_s"] > 0

    recomputes(line, kafka_bootstrap, prefix, tmp_path / "yujing" / "district-day" / unique_prefix)


def recomputes(line: dict, bootstrap: str, prefix: str, day_dir: Path) -> None:
    """The line's figures, recomputed from what the day left: topics, truth, stubs' lists."""
    assert (day_dir / "report.json").is_file()
    truth = [json.loads(x) for x in (day_dir / "truth.jsonl").read_text().splitlines()]
    messages = json.loads((day_dir / "stubs.json").read_text())
    district = next(x for x in truth if x["type"] == "district")
    start, end = datetime.fromisoformat(district["start"]), datetime.fromisoformat(district["end"])
    names = {k: prefix + spec.name for k, spec in TOPICS.items()}
    raw = read_to_end(bootstrap, list(names.values()))
    records = {k: records_as_json(raw[name]) for k, name in names.items()}
    town_of = {x["place_id"]: x["town"] for x in truth if x.get("place_id") and x.get("town")}
    want = oracle(records, start, end, town_of, truth, district["sensors"], stub_keys(messages))
    gt = want["ground_truth"]
    recomputed = {
        "sensors": district["sensors"],
        "incidents": gt["incidents"],
        "alerts": want["alerts"]["total"],
        "orders": want["orders"]["total"],
        "auto_disposed_ratio": want["auto_disposal"]["ratio"],
        "recall": gt["recall"],
        "false_alerts_per_1000_sensor_days": gt["false_alerts_per_1000_sensor_days"],
        "sla_breaches_observed": want["sla"]["observed"],
        "duplicate_notifications": want["notifications"]["stubs"]["duplicate_notifications"],
    }
    for key, value in recomputed.items():
        got = line[key]
        if isinstance(value, float):
            assert got == pytest.approx(value, abs=1e-4), key
        else:
            assert got == value, key
    systemic = want["alerts"]["systemic"]
    assert line["systemic_alerts"] == {k: systemic.get(k, 0) for k in line["systemic_alerts"]}
    kinds = gt["systemic"]  # strict: alerts that detect an injected group of their kind
    assert line["systemic_matched"] == {
        k: kinds[k]["group_matched"] for k in line["systemic_matched"]
    }
    assert line["compound_alerts"] == kinds["compound"]["alerts"]
    assert line["groups_detected"] == {
        k: f"{v['groups_detected']}/{v['groups']}" for k, v in kinds.items() if v["groups"]
    }
    assert kinds["compound"]["groups"] >= 1, "the small day injects compound incidents"
    assert want["notifications"]["stubs"]["requested_not_accepted"] == 0
