"""The people's decision and delay models and the expected-breach ledger (pure)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import OrderAction, SlaClass
from streams.core.orders.sla import deadlines
from streams.tools.simulate.people import FIELD, Ledger, LogNormal, PartyModel, field_plan

T0 = datetime(2026, 3, 2, tzinfo=UTC)
DAY_END = T0 + timedelta(days=1)
A = OrderAction


@settings(max_examples=20, deadline=None)
@given(median=st.floats(10, 10_000), sigma=st.floats(0.1, 1.5), k=st.floats(-2, 2))
def test_a_log_normal_delay_is_late_as_often_as_it_says(
    median: float, sigma: float, k: float
) -> None:
    d = LogNormal(median, sigma)
    limit = median * math.exp(k * sigma)
    rng = random.Random(7)
    n = 4000
    over = sum(d.draw(rng).total_seconds() > limit for _ in range(n)) / n
    assert abs(over - d.share_over(limit)) < 0.035  # > 5 standard errors at n = 4000


def test_some_emergency_workers_are_late_but_most_are_not() -> None:
    signed = FIELD["emergency"]["signed"]
    late = signed.share_over(5 * 60)
    assert 0.005 < late < 0.10  # breaches happen, on a minority of orders


@given(seed=st.integers(0, 10_000), cls=st.sampled_from(["emergency", "non_emergency"]))
def test_a_field_worker_acts_in_the_lifecycle_order(seed: int, cls: str) -> None:
    plan = field_plan(cls, T0, random.Random(seed))
    actions = [a for _, a in plan]
    scene = [A.ARRIVED] if cls == "emergency" else []
    assert actions == [A.SIGNED, A.ASSIGNED, *scene, A.RESOLVED, A.FEEDBACK]
    times = [t for t, _ in plan]
    assert times == sorted(times) and times[0] > T0


def test_a_party_decides_with_the_set_probabilities() -> None:
    model = PartyModel(fix=0.7, help=0.2, ignore=0.1)
    rng = random.Random(3)
    n = 20_000
    counts = {"fix": 0, "help": 0, "ignore": 0}
    for _ in range(n):
        counts[model.decide(rng)] += 1
    assert abs(counts["fix"] / n - 0.7) < 0.02
    assert abs(counts["help"] / n - 0.2) < 0.02
    assert abs(counts["ignore"] / n - 0.1) < 0.02
    assert model.answer == {"fix": "handled", "help": "needs_help", "ignore": None}


def _deadlines(cls: str, created: datetime) -> dict[str, datetime]:
    return deadlines(SlaClass(cls), created)


def test_the_ledger_expects_exactly_the_stages_met_late_or_never_by_the_horizon() -> None:
    ledger = Ledger(T0, DAY_END)
    on_time, late, never, auto, taken = "o-on-time", "o-late", "o-never", "o-auto", "o-taken"
    for oid in (on_time, late, never):
        assert ledger.saw(oid, T0, _deadlines("emergency", T0), auto=False)
    assert not ledger.saw(on_time, T0, {}, auto=False)  # already known
    ledger.did(on_time, A.ASSIGNED, T0 + timedelta(minutes=4))
    ledger.did(on_time, A.ARRIVED, T0 + timedelta(minutes=15))
    ledger.did(late, A.ASSIGNED, T0 + timedelta(minutes=6))  # the 5-minute stage, late
    ledger.did(late, A.ASSIGNED, T0 + timedelta(minutes=1))  # a replay: the first counts
    ledger.did(late, A.ARRIVED, T0 + timedelta(minutes=19))
    ledger.saw(auto, T0, _deadlines("emergency", T0), auto=True)  # the machine disposed it
    ledger.saw(taken, T0, _deadlines("emergency", T0), auto=True)
    ledger.escalated(taken)  # a person had to take it over, and nobody did
    horizon = T0 + timedelta(minutes=30)  # the 24 h stage is not judged yet
    assert ledger.expected(horizon) == sorted(
        [(late, "signed"), (never, "signed"), (never, "arrived"),
         (taken, "signed"), (taken, "arrived")]
    )  # fmt: skip
    # an order of another day is not this day's to expect
    before = T0 - timedelta(hours=1)
    ledger.saw("o-yesterday", before, _deadlines("emergency", before), auto=False)
    assert all(oid != "o-yesterday" for oid, _ in ledger.expected(horizon))
