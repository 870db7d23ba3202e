"""Rate anomaly: a window's count of records at a place against the place's own EW rate."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.signals.detectors import RateAnomaly, Record
from streams.core.signals.detectors.rate import poisson_sf
from streams.core.signals.trigger import Trigger

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T0 = datetime(2026, 3, 1, tzinfo=UTC)  # a UTC midnight: day windows start here


def r(t: datetime | float, event_id: str = "") -> Record:
    if not isinstance(t, datetime):
        t = EPOCH + timedelta(seconds=t)
    return Record(
        t=t, department="police", event_type="dispute_call", attributes={}, event_id=event_id
    )


def reference_sf(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam), summing the upper tail in log space."""
    if k <= 0:
        return 1.0
    top = int(k + lam + 40 * math.sqrt(lam) + 100)
    terms = [math.exp(-lam + i * math.log(lam) - math.lgamma(i + 1)) for i in range(k, top)]
    return min(1.0, math.fsum(terms))


# -- poisson_sf ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "lam", "expected"),
    [
        (0, 2.0, 1.0),
        (-3, 2.0, 1.0),
        (1, 2.0, 1 - math.exp(-2.0)),
        (2, 2.0, 1 - 3 * math.exp(-2.0)),
        (3, 0.5, 1 - math.exp(-0.5) * (1 + 0.5 + 0.125)),
        (1, 0.05, 1 - math.exp(-0.05)),
        (4, 10.0, 1 - math.exp(-10.0) * (1 + 10 + 50 + 1000 / 6)),
    ],
)
def test_poisson_sf_known_values(k: int, lam: float, expected: float) -> None:
    assert poisson_sf(k, lam) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_poisson_sf_small_tail() -> None:
    # P(X >= 3 | 0.5) = 0.01439 (the doctest), P(X >= 10 | 1) ~ 1.1e-7
    assert poisson_sf(3, 0.5) == pytest.approx(0.014388, abs=1e-6)
    assert poisson_sf(10, 1.0) == pytest.approx(1.1142e-7, rel=1e-3)


@given(
    k=st.integers(min_value=-2, max_value=150),
    lam=st.floats(min_value=1e-3, max_value=500.0),
)
def test_poisson_sf_is_a_probability_that_matches_a_reference(k: int, lam: float) -> None:
    sf = poisson_sf(k, lam)
    assert 0.0 <= sf <= 1.0
    assert sf == pytest.approx(reference_sf(k, lam), abs=1e-9)


@given(
    k=st.integers(min_value=-2, max_value=150),
    lam=st.floats(min_value=1e-3, max_value=700.0),
)
def test_poisson_sf_is_non_increasing_in_k(k: int, lam: float) -> None:
    assert poisson_sf(k + 1, lam) <= poisson_sf(k, lam)


@given(k=st.integers(min_value=1, max_value=40), a=st.floats(0.01, 50), b=st.floats(0.01, 50))
def test_poisson_sf_is_non_decreasing_in_lam(k: int, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert poisson_sf(k, lo) <= poisson_sf(k, hi) + 1e-12


def test_poisson_sf_for_a_large_mean() -> None:
    assert poisson_sf(1000, 750.0) < 1e-12  # true value 2.2e-18; returns 1.0
    assert poisson_sf(2000, 1000.0) < 1e-12  # true value 3.1e-170; returns 1.0


def test_a_very_busy_place_can_still_score() -> None:
    det = RateAnomaly.from_params({"window_s": 100, "warmup_windows": 1})
    det.load({"s": 0.0, "c": 3000, "r": 800.0, "w": 20})  # 3000 so far against ~800
    assert det.score_one(r(50.0)) > 0.999  # returns 0.0


# -- windows -----------------------------------------------------------------------


def test_the_first_record_opens_an_aligned_window() -> None:
    det = RateAnomaly.from_params({"window_s": 100})
    det.learn_one(r(1234.5))
    assert det.state() == {"s": 1200.0, "c": 1, "r": 0.0, "w": 0}
    assert det.baseline() == 0.0


def test_windows_close_across_gaps_and_empty_windows_decay_the_rate() -> None:
    det = RateAnomaly.from_params({"window_s": 100, "alpha": 0.5, "warmup_windows": 1})
    for t in (0, 10, 99.9):
        det.learn_one(r(t))
    assert det.state() == {"s": 0.0, "c": 3, "r": 0.0, "w": 0}
    det.learn_one(r(100))  # closes [0, 100): the first closed window sets the rate
    assert det.state() == {"s": 100.0, "c": 1, "r": 3.0, "w": 1}
    det.learn_one(r(550))  # closes [100, 200) with 1, then 3 empty windows
    state = det.state()
    assert (state["s"], state["c"], state["w"]) == (500.0, 1, 5)
    assert state["r"] == pytest.approx((0.5 * 3.0 + 0.5 * 1) * 0.5**3)


@given(
    alpha=st.floats(0.01, 0.99),
    count=st.integers(0, 20),
    rate=st.floats(0.0, 50.0),
    empty=st.integers(0, 60),
)
def test_m_empty_windows_decay_the_rate_by_one_minus_alpha_to_the_m(
    alpha: float, count: int, rate: float, empty: int
) -> None:
    det = RateAnomaly(window_s=60.0, alpha=alpha, warmup_windows=1)
    det.load({"s": 600.0, "c": count, "r": rate, "w": 3})
    t = 600.0 + 60.0 * (1 + empty) + 30.0  # the window after ``empty`` empty ones
    _, c, new_rate, windows = det._advanced(t)
    assert c == 0 and windows == 3 + 1 + empty
    closed = (1 - alpha) * rate + alpha * count
    assert new_rate == pytest.approx(closed * (1 - alpha) ** empty, rel=1e-9, abs=1e-300)


def test_warm_up_counts_windows_not_records() -> None:
    det = RateAnomaly.from_params({"window_s": 100, "warmup_windows": 3})
    for _ in range(50):  # many records, one window
        det.learn_one(r(10))
        assert not det.is_warm()
        assert det.score_one(r(20)) == 0.0
    det.learn_one(r(250))  # windows [0, 100) and [100, 200) closed
    assert not det.is_warm()
    det.learn_one(r(320))  # and [200, 300), even though it was empty
    assert det.is_warm()
    assert det.state()["w"] == 3


def test_late_records_count_in_the_current_window() -> None:
    det = RateAnomaly.from_params({"window_s": 100, "alpha": 0.5, "warmup_windows": 1})
    det.learn_one(r(10))
    det.learn_one(r(510))
    before = det.state()
    late = r(120)  # belongs to an already closed window
    assert det.indicators(late)["count_in_window"] == 2.0
    det.learn_one(late)
    assert det.state() == {**before, "c": 2}


def test_score_is_one_minus_the_tail_of_the_count_including_this_record() -> None:
    det = RateAnomaly.from_params({"window_s": 100, "warmup_windows": 1, "min_rate": 0.05})
    det.load({"s": 0.0, "c": 2, "r": 1.5, "w": 10})
    x = r(50)
    assert det.indicators(x) == {"count_in_window": 3.0, "expected_per_window": 1.5}
    assert det.score_one(x) == pytest.approx(1 - poisson_sf(3, 1.5))
    # in a new window the count starts again
    assert det.indicators(r(150))["count_in_window"] == 1.0
    # the rate never counts as lower than min_rate
    det.load({"s": 0.0, "c": 0, "r": 0.0, "w": 10})
    assert det.score_one(x) == pytest.approx(1 - poisson_sf(1, 0.05))


def history(det: RateAnomaly, per_day: int, every_days: int, days: int) -> None:
    for day in range(0, days, every_days):
        for i in range(per_day):
            det.learn_one(r(T0 + timedelta(days=day, minutes=30 * i + 1)))


def burst(det: RateAnomaly, n: int, day: int) -> list[float]:
    scores = []
    for i in range(n):
        x = r(T0 + timedelta(days=day, hours=i + 1), f"e{i}")
        scores.append(det.score_one(x))
        det.learn_one(x)
    return scores


def test_a_burst_at_a_quiet_place_fires() -> None:
    det = RateAnomaly.from_params({"window_s": 86400, "warmup_windows": 14})
    history(det, per_day=1, every_days=10, days=60)  # one call every ten days
    scores = burst(det, 4, day=62)
    assert det.is_warm()
    assert scores[0] < 0.999  # one call is nothing special
    assert scores[-1] > 0.999
    assert scores == sorted(scores)


def test_the_same_burst_at_a_busy_place_does_not() -> None:
    det = RateAnomaly.from_params({"window_s": 86400, "warmup_windows": 14})
    history(det, per_day=10, every_days=1, days=60)  # ten calls a day
    assert det.baseline() == pytest.approx(10.0, rel=0.01)
    assert max(burst(det, 4, day=60)) < 0.5


def test_a_busy_day_still_fires_at_a_busy_place() -> None:
    det = RateAnomaly.from_params({"window_s": 86400, "warmup_windows": 14})
    history(det, per_day=10, every_days=1, days=60)
    assert max(burst(det, 24, day=60)) > 0.999


def test_evidence_is_the_record_and_default_trigger() -> None:
    det = RateAnomaly.from_params({})
    assert det.evidence(r(0, "call-7")) == ["call-7"]
    assert det.evidence(r(0)) == []
    assert RateAnomaly.default_trigger() == Trigger(threshold=0.999, clear=0.5)


@pytest.mark.parametrize(
    "params",
    [
        {"window_s": 0},
        {"window_s": -1},
        {"alpha": 0},
        {"alpha": 1},
        {"warmup_windows": 0},
        {"min_rate": 0},
        {"per": "day"},
    ],
)
def test_bad_parameters_raise_naming_the_kind(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^rate: "):
        RateAnomaly.from_params(params)
