"""Threshold detector: its score, its parameters, and hysteresis with its default trigger."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.signals.detectors import Point, Threshold
from streams.core.signals.trigger import Trigger

T0 = datetime(2026, 3, 1, tzinfo=UTC)

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
# Values on a grid of quarters, mostly near the (integer) limits, so crossings and
# clears are frequent. (A value within a rounding error of a limit, say 1e-300 above a
# clear of 0, scores as if it were on the limit: float arithmetic, not a bug.)
grid = st.integers(min_value=-40_000, max_value=40_000).map(lambda i: i / 4)
values = st.lists(st.integers(min_value=0, max_value=120).map(lambda i: i / 4) | grid, max_size=60)


@st.composite
def thresholds(draw: st.DrawFn, direction: str = "above") -> Threshold:
    upper = draw(st.integers(min_value=5, max_value=25).map(float))
    gap = draw(st.integers(min_value=1, max_value=15).map(float))
    clear = upper - gap if direction == "above" else upper + gap
    return Threshold(upper=upper, clear=clear, direction=direction)


def p(value: float, i: int = 0) -> Point:
    return Point(t=T0 + timedelta(seconds=i), value=value, event_id=f"r{i}")


def run(
    det: Threshold, vals: list[float], trigger: Trigger | None = None
) -> tuple[list[bool], list[bool]]:
    """For each value: was the trigger active before it, and did it fire."""
    trig = trigger or det.default_trigger()
    state: dict[str, Any] | None = None
    active_before, fired = [], []
    for i, v in enumerate(vals):
        active_before.append(bool(state and state.get("a")))
        state, f = trig.step(state, det.score_one(p(v, i)), T0 + timedelta(seconds=i))
        fired.append(f)
    return active_before, fired


def test_the_documented_scores() -> None:
    det = Threshold.from_params({"upper": 20.0, "clear": 10.0})
    assert [det.score_one(p(v)) for v in (5, 10, 15, 20, 30, 1e9)] == [0, 0, 0.25, 0.5, 1, 1]


def test_a_lower_limit_scores_the_other_way() -> None:
    det = Threshold.from_params({"upper": 0.14, "clear": 0.2, "direction": "below"})
    assert det.score_one(p(0.14)) == pytest.approx(0.5)
    assert det.score_one(p(0.2)) == 0.0
    assert det.score_one(p(0.5)) == 0.0
    assert det.score_one(p(0.0)) == 1.0


@pytest.mark.parametrize("direction", ["above", "below"])
@given(data=st.data(), a=finite, b=finite)
def test_scores_are_in_the_unit_interval_and_monotone(
    data: st.DataObject, direction: str, a: float, b: float
) -> None:
    det = data.draw(thresholds(direction))
    lo, hi = sorted((a, b))
    s_lo, s_hi = det.score_one(p(lo)), det.score_one(p(hi))
    assert 0.0 <= s_lo <= 1.0 and 0.0 <= s_hi <= 1.0
    assert (s_lo <= s_hi) if direction == "above" else (s_lo >= s_hi)


@given(det=thresholds(), value=grid)
def test_the_score_reaches_half_exactly_at_the_limit(det: Threshold, value: float) -> None:
    assert det.score_one(p(det.upper)) == 0.5
    assert det.score_one(p(det.clear)) == 0.0
    assert (det.score_one(p(value)) >= 0.5) == (value >= det.upper)
    assert (det.score_one(p(value)) <= 0.0) == (value <= det.clear)


@given(det=thresholds(), vals=values)
def test_never_fires_while_active(det: Threshold, vals: list[float]) -> None:
    active_before, fired = run(det, vals)
    assert not any(a and f for a, f in zip(active_before, fired, strict=True))


@given(det=thresholds(), vals=values)
def test_fires_only_at_or_above_upper(det: Threshold, vals: list[float]) -> None:
    _, fired = run(det, vals)
    assert all(v >= det.upper for v, f in zip(vals, fired, strict=True) if f)


@given(det=thresholds(), vals=values)
def test_fires_at_most_once_between_clears(det: Threshold, vals: list[float]) -> None:
    _, fired = run(det, vals)
    at = [i for i, f in enumerate(fired) if f]
    for i, j in itertools.pairwise(at):
        assert any(vals[k] <= det.clear for k in range(i + 1, j)), (i, j)


@given(det=thresholds(), vals=values)
def test_every_crossing_after_a_clear_fires(det: Threshold, vals: list[float]) -> None:
    _, fired = run(det, vals)
    armed = True
    for v, f in zip(vals, fired, strict=True):
        assert f == (armed and v >= det.upper)
        armed = (armed and v < det.upper) or v <= det.clear


@given(det=thresholds(), vals=values)
def test_with_clear_none_fires_again_only_after_dropping_below_upper(
    det: Threshold, vals: list[float]
) -> None:
    _, fired = run(det, vals, Trigger(threshold=0.5, clear=None))
    at = [i for i, f in enumerate(fired) if f]
    for i, j in itertools.pairwise(at):
        assert any(vals[k] < det.upper for k in range(i + 1, j))


def test_the_documented_hysteresis() -> None:
    det = Threshold(upper=20.0, clear=10.0)
    _, fired = run(det, [5, 21, 25, 15, 22, 9, 30])
    assert fired == [False, True, False, False, False, False, True]


def test_no_learning_and_no_state() -> None:
    det = Threshold(upper=20.0, clear=10.0)
    before = det.score_one(p(15))
    det.learn_one(p(1000))
    assert det.score_one(p(15)) == before
    assert det.state() == {}
    assert det.is_warm()
    assert det.baseline() == 10.0
    assert det.indicators(p(15)) == {"value": 15, "upper": 20.0, "clear": 10.0}


def test_clear_defaults_to_ten_percent_inside_the_limit() -> None:
    assert Threshold.from_params({"upper": 20}).clear == pytest.approx(18.0)
    assert Threshold.from_params({"upper": 20, "direction": "below"}).clear == pytest.approx(22.0)
    assert Threshold.from_params({"upper": 0}).clear < 0


def test_from_params_converts_numbers() -> None:
    det = Threshold.from_params({"upper": "4.5", "clear": 4})
    assert (det.upper, det.clear, det.direction) == (4.5, 4.0, "above")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, r"threshold: missing parameters \['upper'\]"),
        ({"clear": 1.0}, r"threshold: missing parameters \['upper'\]"),
        ({"upper": 1.0, "lower": 0.0}, r"threshold: unknown parameters \['lower'\]"),
        ({"upper": 1.0, "clear": 2.0}, "normal side"),
        ({"upper": 1.0, "clear": 1.0}, "normal side"),
        ({"upper": 1.0, "clear": 0.5, "direction": "below"}, "normal side"),
        ({"upper": 1.0, "direction": "sideways"}, "direction must be"),
        ({"upper": "high"}, "could not convert"),
    ],
)
def test_from_params_refuses_bad_parameters(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Threshold.from_params(params)
