"""The NAB cross-validation protocol (benchmarks/nab_cv.py): folds, grid, a fixed threshold.

A corpus run takes minutes (``python -m benchmarks.nab_cv``); these check the
protocol's pieces on a tiny corpus written here.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from nab_corpus import write_corpus

from benchmarks.nab.scorer import STANDARD, file_rows, score_profile
from benchmarks.nab_cv import GRID, _added, combos, folds, main

T0 = datetime(2020, 1, 1)


def test_folds_split_the_files_in_two_by_a_seed() -> None:
    names = [f"f{i}.csv" for i in range(9)]
    a, b = folds(names, seed=0)
    assert a | b == set(names) and not a & b and len(a) == 4
    assert folds(list(reversed(names)), seed=0) == (a, b)  # the order given does not matter
    assert folds(names, seed=1) != (a, b)


def test_a_stratified_split_deals_every_category_to_both_folds() -> None:
    sizes = {"artificial": 5, "ads": 6, "cloud": 17, "tweets": 1}
    names = [f"{d}/f{i}.csv" for d, n in sizes.items() for i in range(n)]
    a, b = folds(names, seed=0, stratify=True)
    assert a | b == set(names) and not a & b
    assert abs(len(a) - len(b)) <= 1
    for d, n in sizes.items():
        counts = sorted(len([x for x in fold if x.startswith(f"{d}/")]) for fold in (a, b))
        assert counts == [n // 2, n - n // 2]  # each category split as evenly as it can be
    assert folds(list(reversed(names)), seed=0, stratify=True) == (a, b)
    assert folds(names, seed=1, stratify=True) != (a, b)


def test_the_grid_is_every_combination_with_the_fixed_parameters() -> None:
    sets = combos("likelihood")
    n = 1
    for values in GRID["likelihood"].values():
        n *= len(values)
    assert len(sets) == n and len({json.dumps(s, sort_keys=True) for s in sets}) == n
    assert all(s["rest_level"] == 0.4 for s in sets)


def test_a_parameter_added_for_a_run_widens_the_grid() -> None:
    base = combos("likelihood")
    wide = combos("likelihood", dict([_added("avg_n=5,10")]))
    assert len(wide) == 2 * len(base)
    assert {s["avg_n"] for s in wide} == {5, 10}
    rest = [json.dumps({k: v for k, v in s.items() if k != "avg_n"}, sort_keys=True) for s in wide]
    assert sorted(set(rest)) == sorted(json.dumps(s, sort_keys=True) for s in base)
    with pytest.raises(ValueError, match="expected NAME=V1,V2"):
        _added("phases")


def test_a_threshold_learnt_elsewhere_is_kept_not_optimised() -> None:
    stamps = [T0 + timedelta(minutes=i) for i in range(1000)]
    scores = [0.0] * 1000
    scores[450] = 0.7
    window = [(T0 + timedelta(minutes=400), T0 + timedelta(minutes=499))]
    rows = [file_rows("f.csv", stamps, scores, window)]
    assert score_profile(rows, STANDARD).tp == 1  # optimised: 0.7 is found
    assert score_profile(rows, STANDARD, threshold=0.9).tp == 0  # given: 0.7 is below it


def test_the_protocol_runs_end_to_end_on_a_tiny_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(GRID, "likelihood", {"avg_n": [5, 10]})
    write_corpus(tmp_path, files=4)
    assert main(["--nab", str(tmp_path), "--jobs", "1", "--splits", "3"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])
    assert [f["files"] for f in summary["folds"]] == [2, 2]
    assert summary["full"]["score"] > 50  # every file's one spike is found, early in its window
    spread = summary["splits"]  # the same replays split by seeds 0, 1 and 2
    assert spread["splits"] == 3 and "over 3 splits (seeds 0-2)" in out[-2]
    assert spread["held_out_min"] <= spread["held_out_mean"] <= spread["held_out_max"]
    assert 0 <= spread["splits_within_3"] <= 3 and 0 <= spread["folds_defaults_over_3_under"] <= 6
    held, plain = spread["held_out_mean"], spread["defaults_mean"]
    assert spread["choosing_costs"] == pytest.approx(plain - held, abs=0.02)
