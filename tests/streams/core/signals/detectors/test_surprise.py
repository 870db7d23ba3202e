"""Surprise: never-seen short contexts of coarse value levels, then a rest period."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.signals.detectors import Point
from streams.core.signals.detectors.surprise import Surprise
from streams.core.signals.trigger import Trigger

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SMALL = {"range_n": 20, "warmup": 60, "rest": 10}
W = 1.2  # the sum of the default weights (0.5, 0.3, 0.2, 0.2)


def p(minute: int, value: float) -> Point:
    return Point(t=T0 + timedelta(minutes=minute), value=value, event_id=f"r{minute}")


def sawtooth(n: int, start: int = 0) -> list[Point]:
    """0, 1, ..., 9, 0, 1, ... one a minute: a repertoire of 10 levels and transitions."""
    return [p(i, float(i % 10)) for i in range(start, start + n)]


def run(det: Surprise, xs: list[Point]) -> list[float]:
    scores = []
    for x in xs:
        scores.append(det.score_one(x))
        det.learn_one(x)
    return scores


def trained(**over: Any) -> Surprise:
    det = Surprise.from_params({**SMALL, **over})
    run(det, sawtooth(200))
    return det


def test_no_score_during_warm_up() -> None:
    det = Surprise.from_params(SMALL)
    for i in range(60):
        assert not det.is_warm()
        assert det.score_one(p(i, 1e6)) == 0.0
        det.learn_one(p(i, float(i % 10)))
    assert det.is_warm()
    assert det.score_one(p(60, 1e6)) == 1.0


def test_the_range_is_learnt_from_the_first_range_n_readings() -> None:
    det = Surprise.from_params(SMALL)
    run(det, sawtooth(19))
    assert det.step == 0.0 and det.indicators(p(0, 3.0)) == {"value": 3.0}
    run(det, sawtooth(1, start=19))
    assert (det.lo, det.hi) == (0.0, 9.0)
    assert det.step == 9.0 / 6  # six levels over the range by default
    run(det, [p(20, 100.0)])  # later readings do not widen it
    assert (det.lo, det.hi, det.step) == (0.0, 9.0, 1.5)
    assert det.indicators(p(0, 3.0)) == {"value": 3.0, "level": 2.0, "step": 1.5}


def test_a_flat_range_still_has_levels() -> None:
    det = Surprise.from_params(SMALL)
    run(det, [p(i, 50.0) for i in range(20)])
    assert det.step == pytest.approx(0.5)  # 1 % of the value
    det = Surprise.from_params(SMALL)
    run(det, [p(i, 0.0) for i in range(20)])
    assert det.step == 1e-9


def test_the_repeated_pattern_scores_zero() -> None:
    det = Surprise.from_params(SMALL)
    run(det, sawtooth(1440))  # a whole day: every level at every hour
    assert run(det, sawtooth(1440, start=1440)) == [0.0] * 1440  # the next day is all known


def test_a_never_seen_level_scores_high() -> None:
    det = trained()
    assert det.score_one(p(200, 50.0)) == 1.0
    assert det.score_one(p(200, -20.0)) == 1.0


def test_the_score_is_the_weighted_share_of_new_contexts() -> None:
    det = trained()
    # after 9 (level 6), 5.0 is level 3: seen as a level and at this hour, but the
    # transition 6 -> 3 and the shape (5, 6, 3) are new
    assert det.score_one(p(200, 5.0)) == pytest.approx((0.3 + 0.2) / W)
    # 0.0 after 9 at 10:00 (the training ran 00:00-03:19): only the hour is new
    assert det.score_one(p(600, 0.0)) == pytest.approx(0.2 / W)
    det = trained(tod_hours=24)  # one time-of-day bucket: nothing new
    assert det.score_one(p(600, 0.0)) == 0.0


def test_weights_are_normalised() -> None:
    det = trained(weights=[0.0, 1.0, 0.0, 0.0])
    assert det.weights == (0.0, 1.0, 0.0, 0.0)
    assert det.score_one(p(200, 5.0)) == 1.0  # the transition is new
    assert det.score_one(p(200, 50.0)) == 1.0
    det = trained(weights=[2, 0, 0, 0])
    assert det.score_one(p(200, 5.0)) == 0.0  # the level itself was seen


def test_a_rest_period_follows_a_surprise() -> None:
    det = trained()
    assert run(det, [p(200, 50.0)]) == [1.0]
    # ten readings of rest, however surprising they are
    wild = [p(201 + j, -40.0 - 10 * j) for j in range(10)]
    assert run(det, wild) == [0.0] * 10
    # then the detector speaks again (and rests again)
    assert run(det, [p(211, 500.0), p(212, 600.0)]) == [1.0, 0.0]


def test_a_surprise_during_rest_does_not_extend_it() -> None:
    det = trained()
    run(det, [p(200, 50.0)])
    run(det, [p(201 + j, 100.0 + 10 * j) for j in range(10)])  # all new, all at rest
    assert det.score_one(p(211, 1000.0)) == 1.0


def test_a_small_surprise_does_not_start_a_rest() -> None:
    det = trained()
    assert run(det, [p(200, 5.0)]) == [pytest.approx(0.5 / W)]  # below rest_level 0.6
    assert det.score_one(p(201, 50.0)) == 1.0


def test_no_rest() -> None:
    det = trained(rest=0)
    assert run(det, [p(200, 50.0), p(201, 80.0), p(202, -30.0)]) == [1.0, 1.0, 1.0]


def test_the_surprising_reading_is_learnt() -> None:
    det = trained(rest=0)
    run(det, [p(200, 50.0)])
    assert det.score_one(p(300, 50.0)) < 1.0  # the level is known now


def test_deterministic_whatever_the_seed() -> None:
    xs = sawtooth(200) + [p(200 + i, float((i * 37) % 23)) for i in range(300)]
    a, b = Surprise.from_params(SMALL, seed=1), Surprise.from_params(SMALL, seed=99)
    assert run(a, xs) == run(b, xs)
    assert a.state() == b.state()


def test_score_one_then_learn_one_equals_learn_one_alone() -> None:
    """``learn_one`` reuses the score of the same point; the result must not depend on it."""
    xs = sawtooth(200) + [p(200 + i, float((i * 37) % 23)) for i in range(300)]
    a, b = Surprise.from_params(SMALL), Surprise.from_params(SMALL)
    run(a, xs)
    for x in xs:
        b.learn_one(x)
    assert a.state() == b.state()


def test_non_finite_readings_are_not_learnt() -> None:
    det = trained()
    before = det.state()
    for v in (math.nan, math.inf, -math.inf):
        det.learn_one(p(200, v))
    assert det.state() == before


@settings(max_examples=10, deadline=None)
@given(n=st.integers(min_value=0, max_value=3000), seed=st.integers(0, 1000))
def test_state_size_is_fixed(n: int, seed: int) -> None:
    det = Surprise.from_params({})
    xs = [p(i, float((i * 7919 + seed) % 1000) / 10) for i in range(n)]
    for x in xs:
        det.learn_one(x)
    state = det.state()
    assert len(base64.b64decode(state["m"])) == 4096 // 8
    assert len(json.dumps(state, allow_nan=False)) <= 800


def test_state_size_does_not_grow_with_history() -> None:
    short, long = Surprise.from_params({}), Surprise.from_params({})
    for i in range(1000):
        short.learn_one(p(i, float((i * 7919) % 1000) / 10))
    for i in range(20000):
        long.learn_one(p(i, float((i * 7919) % 1000) / 10))
    assert len(short.state()["m"]) == len(long.state()["m"])
    assert abs(len(json.dumps(long.state())) - len(json.dumps(short.state()))) <= 10


def test_state_before_the_range_is_known_is_strict_json() -> None:
    det = Surprise.from_params(SMALL)
    state = json.loads(json.dumps(det.state(), allow_nan=False))
    assert state["lo"] is None and state["hi"] is None
    restored = Surprise.restore(SMALL, state)
    assert (restored.lo, restored.hi) == (math.inf, -math.inf)
    xs = sawtooth(300)
    assert run(restored, xs) == run(det, xs)


def test_state_of_another_size_is_refused() -> None:
    state = trained().state()
    with pytest.raises(ValueError, match=r"surprise: state has 4096 context bits, expected 1024"):
        Surprise.restore({**SMALL, "bits": 1024}, state)


def test_baseline_is_the_middle_of_the_last_level() -> None:
    det = Surprise.from_params(SMALL)
    assert det.baseline() is None
    run(det, sawtooth(21))  # ... 9 (the range), then 0.0
    assert det.baseline() == pytest.approx(0.75)


def test_default_trigger() -> None:
    assert Surprise.default_trigger() == Trigger(threshold=0.65, clear=0.3)
    # one never-seen level after a known one is enough; a new transition alone is not
    det = trained()
    assert det.score_one(p(200, 50.0)) >= 0.65 > det.score_one(p(200, 5.0))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"levels": 1}, "levels must be >= 2"),
        ({"range_n": 0}, "range_n <= warmup"),
        ({"range_n": 400, "warmup": 300}, "range_n <= warmup"),
        ({"rest": -1}, "rest must be >= 0"),
        ({"bits": 1000}, "bits must be a power of two"),
        ({"bits": 32}, "bits must be a power of two"),
        ({"weights": [1, 1, 1]}, "weights must be 4"),
        ({"weights": [1, 1, 1, -1]}, "weights must be 4"),
        ({"weights": [0, 0, 0, 0]}, "weights must be 4"),
        ({"weights": 5}, "bad parameter type"),
        ({"tod_hours": 0}, "tod_hours must be in"),
        ({"tod_hours": 25}, "tod_hours must be in"),
        ({"memory": 10}, r"unknown parameters \['memory'\]"),
    ],
)
def test_bad_parameters_raise_naming_the_kind(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=r"^surprise: ") as err:
        Surprise.from_params(params)
    assert err.match(message)
