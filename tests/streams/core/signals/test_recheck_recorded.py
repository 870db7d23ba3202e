"""The machine re-check on two orders recorded from a simulated district day
(``data/recheck_cases.json``: each sensor's baseline and its readings up to the order's
re-check, with the simulator's truth of the incident). The re-check must pass the flat
whose incident ended 48 minutes before its re-check, though some of the incident's
readings flapped back into range and were judged healthy on the way (a re-check copy
that learnt them raised its recent surprise until normal readings failed, and never
recovered); and it must not pass the flat whose incident was still on at its re-check."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from schemas import DisposalWatch, SensorReading
from schemas.codec import decode
from streams.core.shared.catalogue import load_catalogue
from streams.core.signals.detect import Detection

CASES = json.loads((Path(__file__).parent / "data" / "recheck_cases.json").read_text())["cases"]


def verdict_at_recheck(case: dict[str, Any]) -> bool:
    """Replay the sensor from its baseline, watch the order from its alarm, and give the
    verdict the re-check would read (none heard: not recovered)."""
    detection = Detection(load_catalogue())
    alarm, until = datetime.fromisoformat(case["alarm"]), datetime.fromisoformat(case["recheck_at"])
    state, recovered, watched = case["baseline"], False, False
    for raw in case["readings"]:
        r = decode(SensorReading, json.dumps(raw).encode())
        seen = detection.observe_reading(r, state, r.event_time)
        state = seen.state
        recovered = next((h.recovered for h in reversed(seen.health)), recovered)
        if not watched and r.event_time >= alarm:
            assert [s.risk_point for s in seen.signals] == [case["risk_point"]], "the alarm"
            req = DisposalWatch(
                watch_id="w", sensor_id=case["sensor_id"], order_id="o",
                risk_point=case["risk_point"], healthy_readings=3, healthy_for_s=900.0,
                until=until, since=alarm, event_time=r.event_time,
            )  # fmt: skip
            new, heard = detection.attach(req, state, r.event_time)
            assert new is not None, "the alarm began a re-check the order attaches to"
            state, watched = new, True
            recovered = next((h.recovered for h in reversed(heard)), recovered)
    assert watched
    return recovered


@pytest.mark.parametrize("case", CASES, ids=[c["sensor_id"].split("@")[1] for c in CASES])
def test_the_re_check_follows_the_incident(case: dict[str, Any]) -> None:
    ended = datetime.fromisoformat(case["incident"]["end"])
    over = ended <= datetime.fromisoformat(case["recheck_at"])
    assert verdict_at_recheck(case) is over
