"""``yujing simulate``: a deterministic synthetic district, its JSONL format and ground truth."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas import SensorReading
from schemas.codec import decode
from schemas.registry import TOPICS
from streams.cli import main
from streams.core.shared.catalogue import load_catalogue
from streams.tools.simulate.command import District, Pacer, Progress, Simulation, jsonl_line
from streams.tools.simulate.profiles import PROFILES

SMALL = {"towns": 1, "communities": 1, "cells": 1, "sites": 7, "hours": 2.0, "incidents": 4}


def digest(sim: Simulation) -> str:
    h = hashlib.sha256()
    for e in sim.events():
        h.update(jsonl_line(e).encode())
    h.update(json.dumps(sim.truth()).encode())
    return h.hexdigest()


def test_same_seed_same_district_other_seed_other_district() -> None:
    a, b = Simulation(District(**SMALL, seed=7)), Simulation(District(**SMALL, seed=7))
    c = Simulation(District(**SMALL, seed=8))
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_district_has_towns_communities_cells_sites_and_every_catalogue_sensor_kind() -> None:
    sim = Simulation(District(towns=2, communities=2, cells=2, sites=7))
    info = sim.summary()
    assert (info["towns"], info["communities"], info["cells"], info["sites"]) == (2, 4, 8, 28)
    catalogue_kinds = {
        rp.source.sensor_kind for rp in load_catalogue().risk_points if rp.source.sensor_kind
    }
    # stations live at sites of their own, rarer than one a community: the first seven
    # sites need not hold one (the whole model has them all: tests/.../test_district.py)
    stations = {k for k, p in PROFILES.items() if p.channels}
    assert {s.kind for s in sim.sensors} == catalogue_kinds - stations
    industries = {p.industry for p in sim.places if p.industry != "cell"}
    assert len(industries) >= 5
    assert all(p.place_id.split(".")[1] == p.town for p in sim.places)


def test_events_are_in_time_order_and_each_line_is_its_topics_event() -> None:
    sim = Simulation(District(**SMALL, records_per_place_day=24))
    lines = [jsonl_line(e) for e in sim.events()]
    times = []
    topics = set()
    for line in lines:
        doc = json.loads(line)
        assert set(doc) == {"topic", "event"}
        spec = TOPICS[doc["topic"]]
        event = decode(spec.schema, json.dumps(doc["event"]).encode())
        spec.key_of(event)
        times.append(event.event_time)
        topics.add(doc["topic"])
    assert times == sorted(times)
    assert topics == {"yujing.readings.v1", "yujing.department-events.v1"}


def test_readings_have_daily_seasonality_noise_and_faults() -> None:
    sim = Simulation(District(towns=1, communities=2, hours=24, incidents=0, fault_rate=1.0))
    by_sensor: dict[str, list[SensorReading]] = {}
    for e in sim.events():
        if isinstance(e, SensorReading):
            by_sensor.setdefault(e.sensor_id, []).append(e)
    cable = next(v for k, v in by_sensor.items() if k.startswith("cable_temp_c"))
    afternoon = [r.value for r in cable if r.event_time.hour in (14, 15)]
    night = [r.value for r in cable if r.event_time.hour in (2, 3)]
    assert sum(afternoon) / len(afternoon) > sum(night) / len(night) + 8  # daily profile
    assert len(set(afternoon)) > len(afternoon) // 2  # noise
    faults = {w["fault"] for w in sim.truth() if w["type"] == "fault"}
    assert faults == {"stuck", "dropout", "spike"}
    dropped = next(w for w in sim.truth() if w.get("fault") == "dropout")
    readings = by_sensor[dropped["sensor_id"]]
    start, end = (datetime.fromisoformat(dropped[k]) for k in ("start", "end"))
    assert not [r for r in readings if start <= r.event_time < end]


def test_injected_incidents_are_what_the_detectors_find() -> None:
    sim = Simulation(District(**SMALL, seed=1))
    truth = [t for t in sim.truth() if t["type"] == "incident"]
    assert len(truth) == 4
    signals = sim.expected_signals()
    for t in truth:
        start, end = (datetime.fromisoformat(t[k]) for k in ("start", "end"))
        hits = [
            s
            for s in signals
            if s.risk_point == t["risk_point"]
            and s.place_id == t["place_id"]
            and start <= s.event_time <= end + timedelta(minutes=30)
        ]
        assert hits, f"incident not detected: {t}"
    assert {s.risk_point for s in signals} == {t["risk_point"] for t in truth}


def test_pacer_keeps_recorded_or_accelerated_speed_and_the_rate_cap() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    pacer = Pacer(t0, speed=60.0, rate=0.0, sleep=sleep, clock=lambda: now[0])
    for minutes in (0, 1, 2):
        pacer.wait(t0 + timedelta(minutes=minutes))
    assert now[0] == pytest.approx(2.0)  # two simulated minutes at 60x
    now[0], slept[:] = 0.0, []
    capped = Pacer(t0, speed=0.0, rate=100.0, sleep=sleep, clock=lambda: now[0])
    for _ in range(51):
        capped.wait(t0)
    assert now[0] == pytest.approx(0.5)


def test_progress_bar_goes_to_its_stream() -> None:
    err = io.StringIO()
    bar = Progress(10, err)
    for i in range(1, 11):
        bar.update(i)
    bar.update(10, final=True)
    text = err.getvalue()
    assert "100%" in text and "10/10 events" in text


def test_cli_writes_jsonl_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "day.jsonl"
    args = ["simulate", "--out", str(out), "--towns", "1", "--communities", "1", "--hours", "1"]
    assert main([*args, "--incidents", "2", "--quiet"]) == 0
    lines = out.read_text().splitlines()
    truth = [json.loads(t) for t in (tmp_path / "day.truth.jsonl").read_text().splitlines()]
    assert lines and json.loads(lines[0])["topic"] in TOPICS
    assert [t for t in truth if t["type"] == "incident"]
    assert f"wrote {len(lines):,} events" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--towns", "0"], "--towns"),
        (["--start", "2026-01-01T00:00:00"], "UTC offset"),
        (["--start", "yesterday"], "ISO-8601"),
        (["--speed", "-1"], "--speed"),
    ],
)
def test_cli_bad_options_fail_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["simulate", "--out", str(tmp_path / "x.jsonl"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_group_incidents_roll_up_to_their_town_and_industry_in_the_rules() -> None:
    """Broker-free: the simulator's own signals through locate + assess on the default model."""
    from districts import default_regions
    from scope_scenario import Run

    sim = Simulation(District(hours=3.0, incidents=0, regional=1, industry=1, fault_rate=0.0))
    assert (sim.summary()["regional_incidents"], sim.summary()["industry_incidents"]) == (1, 1)
    groups = {t["risk_kind"]: t for t in sim.truth() if t["risk_kind"] != "single"}
    members = {
        kind: [t for t in sim.truth() if t.get("group") == g["id"]] for kind, g in groups.items()
    }
    regional, industry = groups["regional"], groups["industry"]
    # as many places as the rules need (min_places 3), in one town / one industry
    assert len({m["community"] for m in members["regional"]}) == len(members["regional"]) >= 3
    assert {m["town"] for m in members["regional"]} == {regional["town"]} == {regional["place_id"]}
    assert len({m["place_id"] for m in members["industry"]}) >= 3
    assert {m["industry"] for m in members["industry"]} == {industry["place_id"]}
    assert all(m["site_kind"] != "cell" for m in members["industry"])

    run = Run(index=default_regions()).feed(*sim.expected_signals())
    got = run.by_rule()
    town = got[("town_wide_risk", regional["town"])]
    assert town.portrait is not None
    assert set(town.portrait.members) == {m["community"] for m in members["regional"]}
    ind = got[("industry_wide_risk", industry["place_id"])]
    assert ind.portrait is not None
    assert set(ind.portrait.members) == {m["place_id"] for m in members["industry"]}
