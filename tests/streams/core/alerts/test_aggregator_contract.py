"""The aggregator contract, checked the same way for every rule kind.

Every compound and systemic rule — the default catalogue's and rules drawn at
random — goes through the same properties: ``add`` is pure, independent of
order and idempotent (at-least-once delivery); ``result`` survives the state's
JSON round trip (the changelog); and a result is never below the rule's
threshold, nor missing when an independent count says the rule is reached.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.alerts.aggregators import aggregator, aggregators
from streams.core.alerts.aggregators.base import Aggregator, Context
from streams.core.alerts.evidence import SIGNALS_JSON, Evidence, Signals
from streams.core.alerts.rules import LEVELS, CompoundRule, Member, SystemicRule
from streams.core.shared.catalogue import load_catalogue

CATALOGUE = load_catalogue()
MODULES = [m.id for m in CATALOGUE.modules]
RISK_POINTS = {rp.id: rp.module for rp in CATALOGUE.risk_points}
KINDS = ["compound", "regional", "industry", "comprehensive", "trend"]
T0 = 1_790_000_000.0

levels = st.sampled_from(LEVELS)


@st.composite
def evidence_pool(draw: st.DrawFn) -> list[Evidence]:
    """Distinct signals (an id is always the same signal) over a few places."""
    n = draw(st.integers(0, 14))
    out = []
    for i in range(n):
        rp = draw(st.sampled_from(sorted(RISK_POINTS)))
        community = draw(st.sampled_from([None, "t.c1", "t.c2", "t.c3", "t.c4", "t.c5"]))
        site = draw(st.sampled_from([None, "site.a", "site.b", "site.c", "site.d"]))
        out.append(
            Evidence(
                signal_id=f"sig-{i:02d}",
                risk_point=rp,
                module=RISK_POINTS[rp],
                place_id=site or f"cell.{community or 'x'}",
                grid_cell=None if site else f"cell.{community}",
                community=community,
                town="t" if community else None,
                district="d",
                site=site,
                industry="catering" if site else None,
                severity=draw(levels),
                emergency=draw(st.booleans()),
                score=draw(st.floats(0, 10, allow_nan=False)),
                indicators={"value": draw(st.floats(-1e6, 1e6, allow_nan=False))},
                source_event_ids=[f"ev-{i}"],
                source_key=f"sensor-{i % 4}",
                t=T0 + draw(st.floats(0, 3599, allow_nan=False)),
            )
        )
    return out


@st.composite
def compound_rules(draw: st.DrawFn) -> CompoundRule:
    names = draw(
        st.lists(
            st.one_of(
                st.sampled_from(MODULES).map(lambda m: ("module", m)),
                st.sampled_from(sorted(RISK_POINTS)).map(lambda r: ("risk_point", r)),
            ),
            min_size=2,
            max_size=5,
            unique=True,
        )
    )
    members = [Member(**{k: v, "weight": draw(st.floats(0.1, 5))}) for k, v in names]
    return CompoundRule(
        id="c_rule",
        name="Drawn compound",
        window_s=3600,
        members=members,
        min_modules=draw(st.integers(2, 3)),
        min_score=draw(st.floats(0, 8)),
        severity=draw(levels),
        emergency=draw(st.booleans()),
    )


@st.composite
def systemic_rules(draw: st.DrawFn, kind: str) -> SystemicRule:
    extra: dict[str, Any] = {}
    if kind == "comprehensive":
        cuts = sorted(draw(st.lists(st.floats(1, 60), min_size=1, max_size=4, unique=True)))
        extra["bands"] = dict(zip(LEVELS[4 - len(cuts) :], cuts, strict=True))
        extra["severity_weights"] = {lv: draw(st.floats(0, 10)) for lv in LEVELS}
        extra["min_modules"] = draw(st.integers(1, 3))
    if kind == "trend" or draw(st.booleans()):  # the others may judge against history too
        history = draw(st.integers(2, 12))
        extra["against_history"] = kind != "trend"
        extra.update(
            history=history,
            min_history=draw(st.integers(1, history)),
            min_count=draw(st.integers(1, 5)),
            p_value=draw(st.floats(0.001, 0.5)),
        )
    return SystemicRule(
        id=f"s_{kind}",
        name=f"Drawn {kind}",
        kind=kind,  # type: ignore[arg-type]
        window_s=3600,
        severity=draw(levels),
        modules=draw(st.lists(st.sampled_from(MODULES), max_size=3, unique=True)),
        min_places=draw(st.integers(2, 4)),
        **extra,
    )


def default_rules(kind: str) -> list[Aggregator]:
    every = aggregators(CATALOGUE.compound_rules, CATALOGUE.systemic_rules)
    return [a for a in every if a.kind == kind]


def rule_of(kind: str) -> st.SearchStrategy[Aggregator]:
    drawn = compound_rules() if kind == "compound" else systemic_rules(kind)
    defaults = default_rules(kind)
    return st.one_of(drawn.map(aggregator), *([st.sampled_from(defaults)] if defaults else []))


def fold(agg: Aggregator, evidence: list[Evidence]) -> Signals:
    state = agg.initialize()
    for ev in evidence:
        state = agg.add(state, ev)
    return state


def context(agg: Aggregator, history: list[int]) -> Context:
    return Context("district:d", "gas_safety", int(T0), int(T0) + 3600, tuple(history))


def reached(agg: Aggregator, state: Signals, ctx: Context) -> bool:
    """Whether the rule's floors are reached, counted independently of the aggregator."""
    rule: Any = getattr(agg, "rule")  # noqa: B009 - every kind binds its rule
    sigs = sorted(state.values(), key=lambda ev: ev.signal_id)  # sums in the rule's order
    if agg.kind == "compound":
        hit = [i for i, m in enumerate(rule.members) for ev in sigs if _names(m, ev)]
        mods = {ev.module for ev in sigs if any(_names(m, ev) for m in rule.members)}
        return (
            len(mods) >= rule.min_modules
            and sum(rule.members[i].weight for i in sorted(set(hit))) >= rule.min_score
        )
    if agg.kind in ("regional", "industry"):
        places = {ev.community if agg.kind == "regional" else ev.site for ev in sigs} - {None}
        return len(places) >= rule.min_places
    if agg.kind == "comprehensive":
        index = sum(rule.severity_weights.get(ev.severity, 0.0) for ev in sigs)
        modules = {ev.module for ev in sigs}
        return len(modules) >= rule.min_modules and index >= min(rule.bands.values())
    # trend: necessary floors only (the tail probability is the aggregator's own judgement)
    return len(sigs) >= rule.min_count and len(ctx.history) >= rule.min_history


def _names(member: Member, ev: Evidence) -> bool:
    return member.module == ev.module or member.risk_point == ev.risk_point


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_aggregator_keeps_the_contract(kind: str, data: st.DataObject) -> None:
    agg = data.draw(rule_of(kind), label="rule")
    pool = data.draw(evidence_pool(), label="evidence")
    arrivals = data.draw(
        st.lists(st.sampled_from(pool), max_size=30) if pool else st.just([]), label="arrivals"
    )
    history = data.draw(st.lists(st.integers(0, 12), max_size=agg.history), label="history")
    ctx = context(agg, history)
    state = fold(agg, arrivals)

    # add is pure: the state it was given is untouched
    before = agg.initialize()
    for ev in arrivals:
        kept = copy.deepcopy(dict(before))
        after = agg.add(before, ev)
        assert dict(before) == kept
        before = after

    # only what the rule accepts gets in; each signal once
    assert set(state) == {ev.signal_id for ev in arrivals if agg.accepts(ev)}

    # order-independent and idempotent: any order, any redelivery, the same state and result
    shuffled = data.draw(st.permutations(arrivals), label="order")
    again = fold(agg, [*shuffled, *arrivals])
    assert dict(again) == dict(state)
    assert agg.result(again, ctx) == agg.result(state, ctx)
    for ev in arrivals:
        assert dict(agg.add(state, ev)) == dict(state)

    # the changelog's JSON round trip changes nothing
    stored = SIGNALS_JSON.validate_json(SIGNALS_JSON.dump_json(dict(state)))
    out = agg.result(state, ctx)
    assert stored == dict(state)
    assert agg.result(stored, ctx) == out

    # never below the threshold; never silent when the rule's floors are reached
    if out is not None:
        assert out.score >= out.threshold
        assert reached(agg, state, ctx)
        assert {w.evidence.signal_id for w in out.contributions} <= set(state)
        assert [w.evidence.signal_id for w in out.contributions] == sorted(
            w.evidence.signal_id for w in out.contributions
        )
    elif kind != "trend" and not getattr(getattr(agg, "rule"), "against_history", False):  # noqa: B009
        assert not reached(agg, state, ctx)  # (a tail probability is the rule's judgement)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_more_evidence_never_lowers_a_level_where_evidence_only_adds(
    kind: str, data: st.DataObject
) -> None:
    """Compound weights, distinct places and index points only grow as signals arrive."""
    if kind == "trend":
        return  # a trend compares with history: more signals only make the tail smaller
    agg = data.draw(rule_of(kind), label="rule")
    pool = data.draw(evidence_pool(), label="evidence")
    cut = data.draw(st.integers(0, len(pool)), label="cut")
    ctx = context(agg, [])
    early, full = agg.result(fold(agg, pool[:cut]), ctx), agg.result(fold(agg, pool), ctx)
    if early is not None:
        assert full is not None
        assert LEVELS.index(full.level) >= LEVELS.index(early.level)
        assert full.score >= early.score


def test_every_rule_kind_has_an_aggregator_and_the_catalogue_binds_them_in_order() -> None:
    bound = aggregators(CATALOGUE.compound_rules, CATALOGUE.systemic_rules)
    ids = [r.id for r in CATALOGUE.compound_rules] + [r.id for r in CATALOGUE.systemic_rules]
    assert [a.rule_id for a in bound] == ids
    assert Counter(a.kind for a in bound).keys() == set(KINDS)
