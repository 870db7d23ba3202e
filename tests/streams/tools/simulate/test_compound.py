"""Compound incidents (Mix.compound, Planner.compound): one place, several modules of a
compound rule, every member seen within one of the rule's windows."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from streams.core.alerts.aggregators.base import matches
from streams.core.shared.catalogue import load_catalogue
from streams.tools.report.groundtruth import parse_truth
from streams.tools.simulate.compound import MAX_LAG_SHARE, candidates, lag_s, sources
from streams.tools.simulate.live import LiveWorld
from streams.tools.simulate.mix import Incident, Mix
from streams.tools.simulate.simulation import District, Simulation
from streams.tools.simulate.world import Slice, World, load_model

T0 = datetime(2026, 3, 2, tzinfo=UTC)
END = T0 + timedelta(days=1)
CATALOGUE = load_catalogue()
PROFILES = Simulation.profiles_for(CATALOGUE)
RULES = {r.id: r for r in CATALOGUE.compound_rules}


@pytest.fixture(scope="module")
def world() -> World:
    return World(load_model(None), Slice(towns=2), kinds=set(PROFILES))


def drawn(world: World, seed: int, count: int = 3) -> list[Incident]:
    m = Mix(world, CATALOGUE, PROFILES, random.Random(seed), T0, END, per_day=200)
    m.singles()
    return m.compound(count)


def rule_of(head: Incident, members: list[Incident]) -> str:
    """The compound rule whose modules the members span (at least its min_modules)."""
    fits = [
        r.id
        for r in RULES.values()
        if len(
            {
                m.module
                for m in members
                if any(matches(x, m.module, m.risk_point) for x in r.members)
            }
        )
        >= r.min_modules
    ]
    assert fits, head.id
    return fits[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_compound_incident_is_at_one_place_in_enough_modules_within_a_window(
    world: World, seed: int
) -> None:
    out = drawn(world, seed)
    heads = [i for i in out if i.risk_kind == "compound"]
    assert len(heads) == 3
    for head in heads:
        members = [i for i in out if i.group == head.id]
        assert [m.id for m in members] == head.members and head.scope
        places = {(m.sensor.place if m.sensor else m.place).place_id for m in members}  # type: ignore[union-attr]
        assert places == {head.scope}  # one place: a site or a grid cell
        assert all(m.risk_kind == "single" for m in members)
        assert len({m.module for m in members}) == len(members)  # one member per module
        rule = RULES[rule_of(head, members)]
        assert len(members) >= rule.min_modules
        # every member's detector sees it in the same tumbling window of the rule
        seen = [
            m.start
            + timedelta(
                seconds=lag_s(
                    CATALOGUE, m.risk_point, PROFILES[m.sensor.kind] if m.sensor else None
                )
                or 0
            )
            for m in members
        ]
        windows = {int(t.timestamp()) // rule.window_s for t in seen}
        assert len(windows) == 1, (head.id, seen)
        assert max(m.start for m in members) - min(m.start for m in members) <= timedelta(
            seconds=rule.window_s / 6
        )
        assert T0 <= head.start < END


def test_compound_incidents_are_deterministic_per_seed(world: World) -> None:
    def ids(seed: int) -> list[tuple[str, str, datetime]]:
        return [(i.id, i.risk_point, i.start) for i in drawn(world, seed)]

    assert ids(5) == ids(5)
    assert ids(5) != ids(6)


def test_members_are_prompt_sources_and_their_sensors_are_taken(world: World) -> None:
    m = Mix(world, CATALOGUE, PROFILES, random.Random(9), T0, END, per_day=0)
    out = m.compound(2)
    for i in out:
        if i.risk_kind == "single":
            prof = PROFILES[i.sensor.kind] if i.sensor else None
            lag = lag_s(CATALOGUE, i.risk_point, prof)
            assert lag is not None and lag <= 3600 * MAX_LAG_SHARE
            assert (i.sensor.sensor_id if i.sensor else i.place.place_id) in m.busy  # type: ignore[union-attr]
    # no place qualifies once every prompt source is busy
    busy = {s.sensor_id for s in world.sensors} | {p.place_id for p in world.places}
    assert (
        candidates(
            CATALOGUE.compound_rules, sources(CATALOGUE, PROFILES, world.sensors, m.places_of, busy)
        )
        == []
    )


def test_the_truth_has_the_compound_group_at_its_place_with_its_members(world: World) -> None:
    out = drawn(world, 4, count=1)
    live = LiveWorld(world, CATALOGUE, PROFILES, out, T0, END, seed=4)
    truth = parse_truth(json.dumps(t) for t in live.truth())
    (group,) = truth.groups
    assert group.kind == "compound" and group.place_id == out[0].scope and group.town
    assert set(group.members) == {m.id for m in truth.incidents if m.group == group.id}
    assert group.end >= max(m.end for m in truth.incidents if m.group == group.id)


def test_yujing_simulate_plans_compound_incidents_too() -> None:
    sizes = {"towns": 2, "communities": 3, "cells": 2, "sites": 7, "hours": 4}
    sim = Simulation(District(**sizes, incidents=4, compound=2, seed=3))  # type: ignore[arg-type]
    truth = parse_truth(json.dumps(t) for t in sim.truth())
    groups = [g for g in truth.groups if g.kind == "compound"]
    assert len(groups) == 2 and sim.summary()["compound_incidents"] == 2
    for g in groups:
        members = [m for m in truth.incidents if m.group == g.id]
        assert {m.place_id for m in members} == {g.place_id} and len(members) >= 2
        assert len({m.module for m in members}) == len(members)
