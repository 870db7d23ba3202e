"""The likelihood detector's warm-up in event time (``range_s``, ``warmup_s``), its re-arm
after a calm, its keys and its hour-of-day context (``phases``).

The contract tests (test_contract.py) cover what every kind owes; here: a sensor that
reports every minute learns its quantiser over a whole day when asked to, and judges
nothing before its warm-up has lasted long enough in event time as well as in readings.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from streams.core.signals.detectors import Point
from streams.core.signals.detectors.likelihood import Likelihood

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def daily(minutes: int, seed: int = 0) -> list[Point]:
    """A reading a minute: a daily cosine (10 ± 5) with a little noise."""
    rng = random.Random(seed)
    out = []
    for i in range(minutes):
        v = 10.0 + 5.0 * math.cos(2 * math.pi * i / 1440) + rng.gauss(0.0, 0.2)
        out.append(Point(T0 + timedelta(minutes=i), v))
    return out


def fed(det: Likelihood, points: list[Point]) -> list[float]:
    scores = []
    for p in points:
        scores.append(det.score_one(p))
        det.learn_one(p)
    return scores


def test_a_range_learnt_over_a_day_spans_the_daily_cycle() -> None:
    params = {"range_n": 48, "warmup": 400, "rest_s": 0, "spatial_tol": 0.25}
    by_count = Likelihood.from_params(params)
    by_day = Likelihood.from_params({**params, "range_s": 86400, "warmup_s": 86400})
    day, evening = daily(1440), daily(3 * 1440)[1440:]
    fed(by_count, day)
    fed(by_day, day)
    # 48 minutes of the cycle's peak against the whole day's swing
    assert by_count.hi0 - by_count.lo0 < 1.0 < 9.0 < by_day.hi0 - by_day.lo0
    # the next days are judged on the day's range: nothing there is beyond it
    assert max(fed(by_day, evening)) < 0.4


def test_nothing_is_judged_before_the_warm_up_has_lasted_its_time() -> None:
    det = Likelihood.from_params({"range_n": 10, "warmup": 20, "warmup_s": 3600})
    points = daily(120)
    scores = fed(det, points[:59])
    assert not det.is_warm() and det.n == 59 and max(scores) == 0.0
    fed(det, points[59:62])
    assert det.is_warm()
    # far outside its range: judged now
    assert det.score_one(Point(points[-1].t + timedelta(minutes=1), 500.0)) >= 0.6


def test_the_warm_up_clock_survives_the_state_and_an_older_state_is_warm() -> None:
    params = {"range_n": 10, "warmup": 20, "range_s": 600, "warmup_s": 3600}
    det = Likelihood.from_params(params)
    fed(det, daily(30))
    state = json.loads(json.dumps(det.state()))
    again = Likelihood.restore(params, state)
    assert (again.t0, again.warm, again.step) == (det.t0, False, det.step)
    assert again.step > 0.0  # 30 minutes of readings are past range_s
    warm = Likelihood.from_params(params)
    fed(warm, daily(90))
    older = {k: v for k, v in warm.state().items() if k not in ("t", "w")}
    assert Likelihood.restore(params, older).is_warm()


def _two_incidents(calm_s: float) -> list[float]:
    """Three days learnt, then two 10-minute spikes 2 h apart; the scores of the day."""
    params = {"range_n": 48, "warmup": 400, "range_s": 86400, "rest_s": 36000, "calm_s": calm_s}
    det = Likelihood.from_params(params)
    fed(det, daily(3 * 1440))
    day = daily(4 * 1440, seed=1)[3 * 1440 :]
    for start in (600, 720):  # 10:00 and 12:00
        for i in range(start, start + 10):
            day[i] = Point(day[i].t, 40.0)
    return fed(det, day)


def test_a_second_incident_after_a_calm_is_a_signal_of_its_own() -> None:
    scores = _two_incidents(calm_s=3600)
    assert max(scores[600:610]) >= 0.4 and max(scores[720:730]) >= 0.4
    assert max(scores[612:720]) < 0.4, "between the incidents it rests, then is calm"
    # re-armed only after a calm hour: with a longer calm asked for, the rest holds
    held = _two_incidents(calm_s=3 * 3600)
    assert max(held[600:610]) >= 0.4 and max(held[720:730]) == 0.0


def test_the_calm_survives_the_state() -> None:
    params = {"range_n": 48, "warmup": 400, "rest_s": 36000, "calm_s": 3600}
    det = Likelihood.from_params(params)
    fed(det, daily(1440))
    fed(det, [Point(T0 + timedelta(minutes=1440), 40.0)])
    state = json.loads(json.dumps(det.state()))
    again = Likelihood.restore(params, state)
    assert (again.rest_until, again.stirred) == (det.rest_until, det.stirred)
    assert again.stirred == (T0 + timedelta(minutes=1440)).timestamp()


def _version_1_slot(mask: int, salt: int, a: int, b: int, c: int) -> int:
    """How the stored states' cells were first addressed (a hash of four parts)."""
    h = ((salt * 8191 + a) * 131071 + b) * 524287 + c
    return ((h * 2654435761) & 0xFFFFFFFF) & mask


def test_the_keys_address_the_cells_every_stored_state_was_counted_in() -> None:
    # the counts were addressed by a hash whose low bits depend only on a - b + c - salt;
    # the model is written as that sum, so a state stored before means the same now
    rng = random.Random(3)
    for buckets in (64, 128, 512, 8192):
        det = Likelihood(buckets=buckets)
        for _ in range(2000):
            salt, a, b, c = rng.randrange(14), *(rng.randint(-1000, 1000) for _ in range(3))
            assert det._slot(a - b + c - salt) == _version_1_slot(buckets - 1, salt, a, b, c)


def _missing_peak(days: int = 12, missing_day: int = 9) -> list[Point]:
    """A reading every 5 minutes, a daily cosine peaking at noon (10 ± 5, a little noise);
    on ``missing_day`` the value stays where it was at 09:00 until 15:00: no peak."""
    rng = random.Random(0)
    out = []
    for i in range(days * 288):
        hour = (i % 288) / 12
        if i // 288 == missing_day and 9 <= hour < 15:
            hour = 9.0
        v = 10.0 + 5.0 * math.cos(2 * math.pi * (hour - 12) / 24) + rng.gauss(0.0, 0.3)
        out.append(Point(T0 + timedelta(minutes=5 * i), v))
    return out


def test_a_peak_that_does_not_come_is_seen_only_with_the_hour_of_day() -> None:
    points = _missing_peak()
    peak = slice(9 * 288 + 9 * 12, 9 * 288 + 15 * 12)
    with_phases = fed(Likelihood(), points)  # the defaults: 24 parts, blocks of 4
    without = fed(Likelihood(phases=0), points)
    # every level of the missing peak is common over the day; only at noon is it rare
    assert max(with_phases[peak]) >= Likelihood.default_trigger().threshold
    assert max(without[peak]) < 0.2


def test_phases_survive_the_state_and_an_older_state_learns_them_before_judging() -> None:
    points = _missing_peak()
    det = Likelihood(phases=12)
    fed(det, points[: 9 * 288])
    back = Likelihood(phases=12)
    back.load(json.loads(json.dumps(det.state())))
    rest = points[9 * 288 :]
    assert fed(back, rest) == fed(det, rest)
    # a state stored without phases (phases off, or older): they start from nothing
    # and add nothing to the score until they have learnt as long as a warm-up
    old = Likelihood(phases=0)
    fed(old, points[: 9 * 288])
    state = old.state()
    assert "p" not in state
    upgraded = Likelihood(phases=12)
    upgraded.load(state)
    plain = Likelihood(phases=0)
    plain.load(state)
    judged_after = upgraded.warmup - upgraded.range_n
    assert fed(upgraded, rest[:judged_after]) == fed(plain, rest[:judged_after])


def test_phases_out_of_range_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="phases must be 0"):
        Likelihood(phases=97)
    with pytest.raises(ValueError, match="phases must be 0"):
        Likelihood(phases=-1)
