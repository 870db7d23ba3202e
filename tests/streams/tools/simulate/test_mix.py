"""The day's incident mix: singles by Bird's ratio, group patterns each rule would see."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from streams.core.shared.catalogue import load_catalogue
from streams.tools.simulate.chance import pattern_size
from streams.tools.simulate.mix import Mix, chance_per_hour
from streams.tools.simulate.simulation import Simulation
from streams.tools.simulate.world import Slice, World, load_model

T0 = datetime(2026, 3, 2, tzinfo=UTC)
END = T0 + timedelta(days=1)
CATALOGUE = load_catalogue()
PROFILES = Simulation.profiles_for(CATALOGUE)


@pytest.fixture(scope="module")
def world() -> World:
    return World(load_model(None), Slice(towns=3), kinds=set(PROFILES))


def mix(world: World, seed: int, per_day: float = 200.0) -> Mix:
    return Mix(world, CATALOGUE, PROFILES, random.Random(seed), T0, END, per_day=per_day)


def test_singles_come_at_the_daily_rate_inside_the_day_each_on_its_own_sensor(
    world: World,
) -> None:
    counts = []
    for seed in range(5):
        m = mix(world, seed)
        singles = m.singles()
        counts.append(len(singles))
        where = [i.sensor.sensor_id if i.sensor else i.place.place_id for i in singles]  # type: ignore[union-attr]
        assert len(where) == len(set(where))  # one incident per sensor or place
        assert all(T0 <= i.start < END - timedelta(hours=m.latest_start_h) for i in singles)
        assert {i.risk_kind for i in singles} == {"single"}
        assert all(CATALOGUE.risk_point(i.risk_point).module == i.module for i in singles)
    mean = sum(counts) / len(counts)
    assert 0.8 * 200 < mean < 1.2 * 200


@pytest.mark.parametrize("kind", ["regional", "industry", "trend"])
def test_a_group_incident_is_a_pattern_its_rule_can_see(world: World, kind: str) -> None:
    m = mix(world, 11)
    singles = m.singles()
    chance = chance_per_hour(singles, 24)
    out = m.groups(kind, 1, chance)
    heads = [i for i in out if i.risk_kind == kind and not i.group]
    assert len(heads) == 1, out
    head = heads[0]
    members = [i for i in out if i is not head]
    rule = min((r for r in CATALOGUE.systemic_rules if r.kind == kind), key=lambda r: r.id)
    scope = f"{head.scope}|{head.module}" if kind == "trend" else head.scope or ""
    assert len(members) >= pattern_size(rule, chance.get(scope, 0.0), kind)
    # all inside one of the rule's windows, on sensors no single incident uses
    assert all(
        head.start <= i.start < head.start + timedelta(seconds=rule.window_s) for i in members
    )
    used = {i.sensor.sensor_id for i in singles if i.sensor}
    assert not used & {i.sensor.sensor_id for i in members if i.sensor}
    if kind == "regional":
        assert len({i.sensor.place.community for i in members if i.sensor}) >= rule.min_places
        assert {i.sensor.place.town for i in members if i.sensor} == {head.scope}


def test_a_storm_spans_the_modules_a_comprehensive_rule_asks_for(world: World) -> None:
    m = mix(world, 5)
    out = m.storm(1.0)
    rule = next(r for r in CATALOGUE.systemic_rules if r.kind == "comprehensive")
    members = [i for i in out[1:]]
    assert out[0].risk_kind == "comprehensive"
    assert len(Counter(i.module for i in members)) >= rule.min_modules
