"""Regional, industry and comprehensive rules judged against their scope's past windows."""

from __future__ import annotations

from streams.core.alerts.aggregators import aggregator
from streams.core.alerts.aggregators.base import Context
from streams.core.alerts.evidence import Evidence, Signals
from streams.core.alerts.rules import SystemicRule

T0 = 1_790_000_000.0


def ev(i: int, community: str, severity: str = "high") -> Evidence:
    return Evidence(
        signal_id=f"sig-{i:03d}", risk_point="river_level_high", module="flood_control",
        place_id=f"cell.{community}.01", grid_cell=f"cell.{community}.01", community=community,
        town="t", district="d", site=None, industry=None, severity=severity,  # type: ignore[arg-type]
        emergency=False, score=1.0, indicators={}, source_event_ids=[f"ev-{i}"],
        source_key=f"s-{i}", t=T0 + i,
    )  # fmt: skip


def state(evs: list[Evidence]) -> Signals:
    return {e.signal_id: e for e in evs}


def regional(**kw: object) -> SystemicRule:
    return SystemicRule(id="r", name="r", kind="regional", window_s=3600, min_places=3, **kw)  # type: ignore[arg-type]


def ctx(history: tuple[int, ...]) -> Context:
    return Context("town:t", "", int(T0), int(T0) + 3600, history)


def test_the_history_of_a_places_rule_is_its_distinct_places() -> None:
    agg = aggregator(regional(against_history=True))
    # five signals in three communities: the measure is 3, not 5
    evs = [ev(i, c) for i, c in enumerate(["c1", "c1", "c2", "c3", "c3"])]
    assert agg.measure(state(evs)) == 3 and agg.history == 24
    assert aggregator(regional()).history == 0  # without it, no history is kept


def test_a_town_where_three_communities_always_have_signals_is_not_a_pattern() -> None:
    three = state([ev(i, f"c{i}") for i in range(3)])
    plain, judged = aggregator(regional()), aggregator(regional(against_history=True))
    busy_past = (3, 4, 2, 3, 3, 4)
    assert plain.result(three, ctx(busy_past)) is not None  # the bare count fires
    assert judged.result(three, ctx(busy_past)) is None  # ordinary for this town
    assert judged.result(three, ctx(busy_past[:1])) is None  # one past window is a past
    # no past window at all (the scope's first): the floor alone decides, as without history
    assert judged.result(three, ctx(())) is not None
    # a young scope's law is wide: 3 in its first window, 6 is still within chance ...
    six = state([ev(i, f"c{i}") for i in range(6)])
    assert judged.result(six, ctx((3,))) is None
    # ... and no longer after a quiet half day
    assert judged.result(six, ctx((0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0))) is not None
    spread = state([ev(i, f"c{i}") for i in range(12)])
    out = judged.result(spread, ctx(busy_past))
    assert out is not None and out.baseline is not None and abs(out.baseline - 19 / 6) < 1e-9
    assert "against a mean of 3.17" in out.why


def test_a_comprehensive_index_against_history_counts_the_signals_behind_it() -> None:
    rule = SystemicRule(
        id="c", name="c", kind="comprehensive", window_s=3600, bands={"high": 10.0},
        min_modules=1, against_history=True, min_history=3,
    )  # fmt: skip
    agg = aggregator(rule)
    evs = state([ev(i, "c1") for i in range(4)])  # 4 high signals: index 4 * 4 = 16
    assert agg.measure(evs) == 4
    assert agg.result(evs, Context("district:d", "", 0, 3600, (4, 5, 3))) is None
    quiet = (0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0)
    assert agg.result(evs, Context("district:d", "", 0, 3600, quiet[:3])) is None  # too young
    out = agg.result(evs, Context("district:d", "", 0, 3600, quiet))
    assert out is not None and out.level == "high"
