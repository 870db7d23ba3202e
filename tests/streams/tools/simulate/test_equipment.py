"""``yujing simulate-equipment`` and the multivariate path it checks.

The stations' faults (valve closure, cavitation, sensor drift, a stuck sensor) are
labelled row by row; the multivariate detector the catalogue and ``score-csv``
use for multi-channel equipment must find them by its own ``alert`` column, with
its defaults: F1 at least 0.8 at a false-alarm rate of at most 10 %. The
univariate kinds, which see only the first channel, must not be what finds them.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from streams.cli import main
from streams.tools.score_csv import load_labels, make_factory, replay_dir
from streams.tools.score_report import Tally, tally_file
from streams.tools.simulate.equipment import CHANNELS, FAULTS, station_rows, write_stations


def test_every_fault_kind_is_put_in_once_after_the_warm_up_and_none_overlap() -> None:
    rows, faults = station_rows(seed=3, days=8)
    assert len(rows) == 8 * 1440 and set(rows[0]) == set(CHANNELS)
    assert sorted(f.kind for f in faults) == sorted(FAULTS)
    assert all(f.start >= 2 * 1440 and 120 <= f.end - f.start <= 360 for f in faults)
    assert all(a.end <= b.start for a, b in itertools.pairwise(faults))


def test_a_stuck_sensor_repeats_its_last_reading_while_the_rest_moves() -> None:
    rows, faults = station_rows(seed=3, days=8)
    stuck = next(f for f in faults if f.kind == "stuck_sensor")
    held = {rows[i]["discharge_kpa"] for i in range(stuck.start, stuck.end)}
    assert held == {rows[stuck.start - 1]["discharge_kpa"]}
    assert len({rows[i]["flow_m3h"] for i in range(stuck.start, stuck.end)}) > 10


@pytest.mark.parametrize("seed", [11, 12])
def test_the_multivariate_detector_finds_the_faults_by_its_own_alerts(
    tmp_path: Path, seed: int
) -> None:
    labels = load_labels(write_stations(tmp_path / "data", stations=2, days=8, seed=seed))
    written = replay_dir(
        tmp_path / "data", tmp_path / "out", "mahalanobis", make_factory("mahalanobis"), labels
    )
    total = Tally()
    for path in written:
        total += tally_file(path)
    assert total.tp + total.fn > 1000, "the stations hold faults to find"
    assert total.f1 >= 0.8 and total.false_alarm_rate <= 0.10, (
        total.f1,
        total.false_alarm_rate,
    )
    first_channel = Tally()
    for path in replay_dir(
        tmp_path / "data", tmp_path / "uni", "likelihood", make_factory("likelihood"), labels
    ):
        first_channel += tally_file(path)
    assert first_channel.f1 < total.f1


def test_the_command_writes_csvs_and_labels_score_csv_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eq"
    assert main(["simulate-equipment", "--out", str(out), "--stations", "1", "--days", "3"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["labels.json", "station-01.csv"]
    assert list(json.loads((out / "labels.json").read_text())) == ["station-01.csv"]
    assert main(["simulate-equipment", "--out", str(out), "--days", "2"]) == 2
    assert "--days >= 3" in capsys.readouterr().err
