"""``yujing score-csv``: layout, columns, labels, multivariate rows, bad input."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from streams.cli import build_parser, main
from streams.tools.score_csv import CsvError, load_labels, make_factory, read_rows, replay_dir

T0 = datetime(2024, 3, 1)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def stamp(i: int) -> str:
    return (T0 + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")


def univariate(n: int = 400, spike_at: int = 350) -> list[list[object]]:
    return [[stamp(i), 100.0 if i == spike_at else float(i % 7)] for i in range(n)]


def read_out(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_layout_columns_and_nab_labels(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_csv(data / "cat_a" / "one.csv", ["timestamp", "value"], univariate())
    write_csv(data / "cat_b" / "two.csv", ["timestamp", "value"], univariate(300, 250))
    labels = tmp_path / "windows.json"
    labels.write_text(json.dumps({"cat_a/one.csv": [[stamp(340), stamp(360)]]}))
    out = tmp_path / "out"
    assert main(["score-csv", str(data), "--out", str(out), "--detector", "surprise",
                 "--labels", str(labels)]) == 0  # fmt: skip
    one = out / "surprise" / "cat_a" / "surprise_one.csv"
    two = out / "surprise" / "cat_b" / "surprise_two.csv"
    assert one.exists() and two.exists()
    rows = read_out(one)
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "label", "alert"]
    assert len(rows) == 400
    assert rows[0]["timestamp"] == stamp(0)
    scores = [float(r["anomaly_score"]) for r in rows]
    assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
    assert [i for i, r in enumerate(rows) if r["label"] == "1"] == list(range(340, 361))
    assert {r["label"] for r in read_out(two)} == {"0"}
    # the spike is the detector's own alert, and nothing fires during warm-up (300 rows)
    alerts = [i for i, r in enumerate(rows) if r["alert"] == "1"]
    assert 350 in alerts
    assert all(i >= 300 for i in alerts)
    assert float(rows[350]["value"]) == 100.0


def test_label_timestamps_format_marks_only_those_rows(tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"x.csv": [stamp(3)]}))
    spans = load_labels(labels)
    data = tmp_path / "data"
    write_csv(data / "x.csv", ["timestamp", "value"], univariate(10))
    [path] = replay_dir(data, tmp_path / "out", "surprise", make_factory("surprise"), spans)
    assert [r["label"] for r in read_out(path)] == ["0"] * 3 + ["1"] + ["0"] * 6


def test_multivariate_rows_form_one_point_and_rows_are_replayed_in_time_order(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    rows = [[float(i), stamp(i), float(-i), 0.5] for i in range(50)]
    write_csv(data / "m.csv", ["a", "timestamp", "b", "c"], list(reversed(rows)))
    header, parsed = read_rows(data / "m.csv")
    assert header == ["a", "b", "c"]
    assert [r.values for r in parsed[:2]] == [
        {"a": 0.0, "b": 0.0, "c": 0.5},
        {"a": 1.0, "b": -1.0, "c": 0.5},
    ]
    [path] = replay_dir(data, tmp_path / "out", "surprise", make_factory("surprise"))
    assert path == tmp_path / "out" / "surprise" / "surprise_m.csv"
    out = read_out(path)
    assert [r["timestamp"] for r in out] == [stamp(i) for i in range(50)]
    assert [float(r["value"]) for r in out] == [float(i) for i in range(50)]  # first column


def test_threshold_kind_with_params(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_csv(
        data / "t.csv", ["timestamp", "value"], [[stamp(i), v] for i, v in enumerate([1, 9, 1])]
    )
    out = tmp_path / "out"
    code = main(["score-csv", str(data), "--out", str(out), "--detector", "threshold",
                 "--params", '{"upper": 5, "clear": 2}'])  # fmt: skip
    assert code == 0
    rows = read_out(out / "threshold" / "threshold_t.csv")
    assert [r["alert"] for r in rows] == ["0", "1", "0"]
    assert [float(r["anomaly_score"]) for r in rows] == [0.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (["time", "value"], [[stamp(0), 1]], "x.csv:1: no 'timestamp'"),
        (["timestamp"], [[stamp(0)]], "x.csv:1: no numeric column"),
        (["timestamp", "value"], [[stamp(0), 1], [stamp(1), "abc"]], "x.csv:3: column 'value'"),
        (["timestamp", "value"], [[stamp(0), "nan"]], "x.csv:2: column 'value': not finite"),
        (["timestamp", "value"], [["yesterday", 1]], "x.csv:2: bad timestamp"),
        (["timestamp", "value"], [[stamp(0), 1, 2]], "x.csv:2: 3 fields"),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path: Path, header, rows, message) -> None:
    path = write_csv(tmp_path / "d" / "x.csv", header, rows)
    with pytest.raises(CsvError, match=message):
        read_rows(path)


def test_bad_csv_through_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(tmp_path / "d" / "x.csv", ["timestamp", "value"], [[stamp(0), "oops"]])
    assert main(["score-csv", str(tmp_path / "d"), "--out", str(tmp_path / "o")]) == 2
    assert "x.csv:2" in capsys.readouterr().err


def test_unknown_detector_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(tmp_path / "d" / "x.csv", ["timestamp", "value"], [[stamp(0), 1]])
    assert main(["score-csv", str(tmp_path / "d"), "--out", str(tmp_path / "o"),
                 "--detector", "nope"]) == 2  # fmt: skip
    assert "unknown detector kind 'nope'" in capsys.readouterr().err


def test_command_is_registered() -> None:
    argv = ["score-csv", "d", "--out", "o"]
    args = build_parser(argv).parse_args(argv)
    assert args.detector is None  # chosen per file: see the next test


def test_without_a_detector_each_csv_gets_the_kind_for_its_columns(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_csv(data / "one.csv", ["timestamp", "value"], univariate(50))
    write_csv(data / "pump.csv", ["timestamp", "flow", "pressure"],
              [[stamp(i), float(i % 5), float(2 * (i % 5))] for i in range(50)])  # fmt: skip
    out = tmp_path / "out"
    assert main(["score-csv", str(data), "--out", str(out)]) == 0
    assert (out / "likelihood" / "likelihood_one.csv").exists()
    assert (out / "mahalanobis" / "mahalanobis_pump.csv").exists()


def test_parameters_without_a_detector_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(tmp_path / "d" / "x.csv", ["timestamp", "value"], [[stamp(0), 1]])
    assert main(["score-csv", str(tmp_path / "d"), "--out", str(tmp_path / "o"),
                 "--params", "{}"]) == 2  # fmt: skip
    assert "--params and --trigger need --detector" in capsys.readouterr().err
