"""Level shift: Page-Hinkley (river) on readings standardised against a learnt reference."""

from __future__ import annotations

import copy
import json
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.signals.detectors import LevelShift, Point
from streams.core.signals.trigger import Trigger

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PARAMS = {"warmup": 60, "threshold": 20.0}  # delta defaults to 0.5 (in standard deviations)


def p(value: float, i: int = 0) -> Point:
    return Point(t=T0 + timedelta(minutes=i), value=value, event_id=f"r{i}")


def settled(seed: int, n: int = 300, params: dict[str, Any] | None = None) -> LevelShift:
    """A detector that has seen ``n`` readings of N(100, 1)."""
    det = LevelShift.from_params(params or PARAMS)
    rng = random.Random(seed)
    for i in range(n):
        det.learn_one(p(100.0 + rng.gauss(0, 1.0), i))
    return det


def until_detected(det: LevelShift, level: float, seed: int, limit: int = 50) -> int:
    """Feed readings at ``level`` until Page-Hinkley detects; how many it took."""
    rng = random.Random(seed)
    for i in range(limit):
        det.learn_one(p(level + rng.gauss(0, 1.0), 500 + i))
        if det.ph.drift_detected:
            return i + 1
    pytest.fail(f"no detection within {limit} readings at {level}")


def feed(det: LevelShift, values: list[float]) -> list[float]:
    scores = []
    for i, v in enumerate(values):
        x = p(v, 1000 + i)
        scores.append(det.score_one(x))
        det.learn_one(x)
    return scores


def ph_tests_of(ph: Any) -> tuple[float, float]:
    """River's two Page-Hinkley test statistics (increase, decrease) as they stand."""
    return ph._sum_increase - ph._min_increase, ph._max_decrease - ph._sum_decrease


def test_no_score_before_warm_up() -> None:
    det = LevelShift.from_params(PARAMS)
    rng = random.Random(0)
    for i in range(59):
        assert det.score_one(p(1e6, i)) == 0.0
        det.learn_one(p(100.0 + rng.gauss(0, 1.0), i))
        assert det.ph._x_mean.n == 0, "Page-Hinkley only starts once the reference is warm"
    assert not det.is_warm()
    det.learn_one(p(100.0, 59))
    assert det.is_warm()
    # Page-Hinkley's own running mean starts at its first value, so the first reading
    # after warm-up deviates from nothing; from the second one on, a jump counts.
    assert feed(det, [1e6, 1e6]) == [0.0, 1.0]


def test_stationary_noise_never_reaches_one() -> None:
    det = settled(seed=0, n=60)
    rng = random.Random(1)
    assert max(feed(det, [100.0 + rng.gauss(0, 1.0) for _ in range(2000)])) < 1.0
    assert not det.ph.drift_detected


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [2.0, 3.0, 5.0, -3.0])
def test_a_sustained_shift_is_detected_within_a_bounded_number_of_readings(
    k: float, seed: int
) -> None:
    det = settled(seed)
    rng = random.Random(100 + seed)
    assert det.score_one(p(100.0)) < 0.2
    # Page-Hinkley gains about |k| - delta per reading: allow twice the ideal delay
    bound = math.ceil(2 * PARAMS["threshold"] / (abs(k) - 0.5)) + 2
    scores = feed(det, [100.0 + k + rng.gauss(0, 1.0) for _ in range(bound)])
    assert 1.0 in scores, scores
    first = scores.index(1.0)
    assert first >= 2, "no single reading of a small shift is a level shift"
    assert max(scores[:first]) < 1.0


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("spike", [8.0, -8.0])
def test_a_single_spike_does_not_reach_one(seed: int, spike: float) -> None:
    det = settled(seed)
    rng = random.Random(200 + seed)
    values = [100.0 + rng.gauss(0, 1.0) for _ in range(50)]
    values[10] = 100.0 + spike
    scores = feed(det, values)
    assert max(scores) < 1.0
    assert scores[10] > 0.2  # it is seen, though
    assert not det.ph.drift_detected


def test_after_detection_the_reference_relearns_the_new_level() -> None:
    det = settled(seed=5)
    until_detected(det, 110.0, seed=5)
    assert det.ref.n == 1, "the reference starts again from the detecting reading"
    assert det.baseline() == pytest.approx(110.0, abs=4)
    # while it re-learns, no score (and so no repeated signal for the same shift)
    rng = random.Random(5)
    relearn = feed(det, [110.0 + rng.gauss(0, 1.0) for _ in range(det.warmup - 1)])
    assert max(relearn) == 0.0
    assert det.is_warm()
    assert det.baseline() == pytest.approx(110.0, abs=0.5)
    later = feed(det, [110.0 + rng.gauss(0, 1.0) for _ in range(500)])
    assert max(later) < LevelShift.default_trigger().clear  # type: ignore[operator]
    # and a move back is a new shift
    back = feed(det, [100.0 + rng.gauss(0, 1.0) for _ in range(30)])
    assert 1.0 in back


@settings(max_examples=60, deadline=None)
@given(
    zs=st.lists(st.floats(min_value=-8, max_value=8), min_size=1, max_size=60),
    delta=st.sampled_from([0.0, 0.5, 1.0]),
    threshold=st.sampled_from([2.0, 5.0, 20.0]),
)
def test_tests_after_equals_what_river_reports_after_updating(
    zs: list[float], delta: float, threshold: float
) -> None:
    det = LevelShift(warmup=2, delta=delta, threshold=threshold)
    det.ref.update(0.0)
    det.ref.update(2.0)  # mean 1.0, std 0.9747 ...
    assert det.is_warm()
    for z in zs:
        x = det.ref.mean + z * det.ref.std
        predicted = det._tests_after(det._z(x))
        real = copy.deepcopy(det.ph)
        real.update(det._z(x))
        up, down = ph_tests_of(real)
        assert predicted == pytest.approx((up, down), rel=1e-9, abs=1e-9)
        assert det.score_one(p(x)) == pytest.approx(min(1.0, max(up, down) / threshold), abs=1e-9)
        det.learn_one(p(x))
        if det.ph.drift_detected:  # keep the reference warm: exercise the reset branch too
            det.ref.update(0.0)
            det.ref.update(2.0)


def test_tests_after_covers_the_reset_after_a_drift() -> None:
    det = settled(seed=7)
    until_detected(det, 120.0, seed=7)
    # warm the new reference up again, Page-Hinkley still holds the drift flag
    feed(det, [120.0 + (i % 3) for i in range(det.warmup - 1)])
    assert det.is_warm() and det.ph.drift_detected
    z = det._z(121.0)
    real = copy.deepcopy(det.ph)
    real.update(z)
    assert real._x_mean.n == 1, "river reset before this update"
    assert det._tests_after(z) == pytest.approx(ph_tests_of(real))


def test_state_round_trip_keeps_an_infinite_min_increase() -> None:
    det = settled(seed=8, n=60)  # just warm: Page-Hinkley has seen nothing yet
    assert math.isinf(det.ph._min_increase)
    state = det.state()
    assert state["p"][4] is None, "inf is not JSON: it is stored as None"
    text = json.dumps(state, allow_nan=False)  # strict JSON
    restored = LevelShift.restore(PARAMS, json.loads(text))
    assert restored.ph._min_increase == math.inf
    assert restored.state() == state
    rng = random.Random(8)
    values = [100.0 + rng.gauss(0, 1.0) for _ in range(30)] + [108.0] * 10
    assert feed(restored, values) == feed(det, values)
    assert restored.state() == det.state()


def test_state_round_trip_keeps_a_detected_drift() -> None:
    det = settled(seed=9)
    until_detected(det, 120.0, seed=9)
    state = json.loads(json.dumps(det.state(), allow_nan=False))
    restored = LevelShift.restore(PARAMS, state)
    assert restored.ph.drift_detected
    values = [120.0 + (i % 3) for i in range(100)]
    assert feed(restored, values) == feed(det, values)


def test_the_score_is_the_statistic_as_a_fraction_of_the_threshold() -> None:
    det = settled(seed=10)
    feed(det, [103.0] * 3)
    x = p(103.0)
    ind = det.indicators(x)
    assert set(ind) == {"value", "reference", "ph_up", "ph_down"}
    assert ind["reference"] == det.baseline() == det.ref.mean
    assert det.score_one(x) == pytest.approx(max(ind["ph_up"], ind["ph_down"]) / 20.0)
    assert ind["ph_up"] > ind["ph_down"]


def test_units_do_not_matter() -> None:
    """Readings are standardised: a shift of 3 sigma is a shift of 3 sigma in any unit."""
    rng = random.Random(11)
    base = [rng.gauss(0, 1.0) for _ in range(300)] + [3.0 + rng.gauss(0, 1.0) for _ in range(20)]
    a = feed(LevelShift.from_params(PARAMS), [100.0 + v for v in base])
    b = feed(LevelShift.from_params(PARAMS), [1e5 + 1000.0 * v for v in base])
    assert a == pytest.approx(b, abs=1e-6)


def test_default_trigger_fires_at_the_threshold_and_clears_at_half() -> None:
    assert LevelShift.default_trigger() == Trigger(threshold=1.0, clear=0.5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"warmup": 1}, "warmup must be"),
        ({"threshold": 0}, "threshold > 0"),
        ({"delta": -0.1}, "delta >= 0"),
        ({"alpha": 0}, "0 < alpha < 1"),
        ({"alpha": 1}, "0 < alpha < 1"),
        ({"window": 10}, r"unknown parameters \['window'\]"),
    ],
)
def test_bad_parameters_raise_naming_the_kind(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="level_shift") as err:
        LevelShift.from_params(params)
    assert err.match(message)
