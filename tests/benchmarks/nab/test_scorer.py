"""The NAB scorer against hand-made windows: the formulas, not a corpus run."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from benchmarks.nab.scorer import (
    MAX_TP,
    PROFILES,
    REWARD_LOW_FN,
    REWARD_LOW_FP,
    STANDARD,
    FileRows,
    file_rows,
    probation_length,
    scaled_sigmoid,
    score_all,
    score_profile,
)

T0 = datetime(2020, 1, 1)
N = 1000  # probation: 150 rows


def ts(n: int = N) -> list[datetime]:
    return [T0 + timedelta(minutes=i) for i in range(n)]


WINDOWS = [(T0 + timedelta(minutes=400), T0 + timedelta(minutes=499))]  # rows 400..499


def rows(detect_at: list[int], windows=WINDOWS, n: int = N, name: str = "f.csv") -> FileRows:
    scores = [0.0] * n
    for i in detect_at:
        scores[i] = 1.0
    return file_rows(name, ts(n), scores, windows)


def test_profiles_weights() -> None:
    assert (STANDARD.tp, STANDARD.fp, STANDARD.fn) == (1.0, 0.11, 1.0)
    assert (REWARD_LOW_FP.tp, REWARD_LOW_FP.fp, REWARD_LOW_FP.fn) == (1.0, 0.22, 1.0)
    assert (REWARD_LOW_FN.tp, REWARD_LOW_FN.fp, REWARD_LOW_FN.fn) == (1.0, 0.11, 2.0)


def test_scaled_sigmoid_shape() -> None:
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert scaled_sigmoid(-1.0) > scaled_sigmoid(-0.5) > scaled_sigmoid(-0.01) > 0
    assert 0 > scaled_sigmoid(0.5) > scaled_sigmoid(2.9) > -1.0
    assert scaled_sigmoid(3.01) == -1.0


def test_probation_is_15_percent_capped_at_750() -> None:
    assert probation_length(1000) == 150
    assert probation_length(100_000) == 750


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_perfect_detector_scores_100_and_null_0(profile) -> None:
    perfect = score_profile([rows([400])], profile)
    assert perfect.normalized == pytest.approx(100.0)
    assert perfect.tp == 1 and perfect.fp == 0
    null = score_profile([rows([])], profile)
    assert null.normalized == pytest.approx(0.0)
    assert null.fn == 1


def test_detection_at_window_start_beats_one_at_the_end() -> None:
    early = score_profile([rows([400])], STANDARD).raw
    middle = score_profile([rows([450])], STANDARD).raw
    late = score_profile([rows([499])], STANDARD).raw
    assert early == pytest.approx(1.0)
    assert early > middle > late > 0 > score_profile([rows([])], STANDARD).raw


def test_only_the_first_detection_in_a_window_counts() -> None:
    one = score_profile([rows([420])], STANDARD).raw
    many = score_profile([rows([420, 430, 460, 490])], STANDARD).raw
    assert many == pytest.approx(one)


def test_false_positive_far_after_a_window_costs_more_than_one_just_after() -> None:
    base = score_profile([rows([400])], STANDARD).raw
    near = score_profile([rows([400, 505])], STANDARD).raw - base
    far = score_profile([rows([400, 900])], STANDARD).raw - base
    assert far == pytest.approx(-STANDARD.fp)  # y > 3: the full -A_FP
    assert -STANDARD.fp < near < 0
    # the formula: y = (i - last) / (width - 1)
    assert near == pytest.approx(STANDARD.fp * scaled_sigmoid((505 - 499) / 99))


def test_false_positive_before_any_window_costs_full_weight() -> None:
    base = score_profile([rows([400])], STANDARD).raw
    assert score_profile([rows([200, 400])], STANDARD).raw - base == pytest.approx(-0.11)
    low_fp = score_profile([rows([200, 400])], REWARD_LOW_FP)
    assert low_fp.raw == pytest.approx(1.0 - 0.22)


def test_probationary_rows_are_not_scored() -> None:
    base = score_profile([rows([400])], STANDARD).raw
    assert score_profile([rows([10, 100, 400])], STANDARD).raw == pytest.approx(base)
    # a window entirely inside the probationary period does not count
    early_window = [(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20))]
    f = rows([], windows=early_window)
    assert f.n_windows == 0


def test_true_positive_weight_is_position_in_window() -> None:
    r = score_profile([rows([450])], STANDARD).raw
    assert r == pytest.approx(scaled_sigmoid(-(499 - 450 + 1) / 100) / MAX_TP)


def test_threshold_is_optimised_per_profile_over_all_files() -> None:
    n = N
    # file a: a real anomaly scored 0.9, a noisy point scored 0.95 before the window
    a = [0.0] * n
    a[410], a[200] = 0.9, 0.95
    b = [0.0] * n  # file b: nothing found, a false alarm scored 0.5
    b[800] = 0.5
    files = [
        file_rows("a.csv", ts(), a, WINDOWS),
        file_rows("b.csv", ts(), b, WINDOWS),
    ]
    res = score_all(files)
    std = res["standard"]
    assert std.threshold == 0.9  # catches a's window, accepts one FP, not b's FP
    assert std.tp == 1 and std.fp == 1 and std.fn == 1
    assert std.raw == pytest.approx(scaled_sigmoid(-0.9) / MAX_TP - 0.11 - 1.0)
    assert set(std.per_file) == {"a.csv", "b.csv"}
    # reward_low_FN values the window twice as much; never worse than the null detector
    assert res["reward_low_FN_rate"].normalized >= 0.0


def test_mismatched_lengths_rejected() -> None:
    with pytest.raises(ValueError, match=r"f\.csv"):
        file_rows("f.csv", ts(10), [0.0] * 9, [])
