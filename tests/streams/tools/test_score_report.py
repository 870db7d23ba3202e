"""``yujing score-csv --report``: point-wise F1, false-alarm and miss rates, a progress bar."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from streams.cli import main
from streams.tools.score_report import Progress, Tally, render

T0 = datetime(2024, 3, 1)


def _stamp(i: int) -> str:
    return (T0 + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")


def _data(tmp_path: Path) -> tuple[Path, Path]:
    """Two files a threshold of 5 judges: one with a 3-row excursion, one quiet."""
    data = tmp_path / "data"
    data.mkdir()
    values = [1, 1, 9, 9, 9, 1, 1, 9, 1, 1]  # rows 2-4 labelled; row 7 a false alarm
    lines = ["timestamp,value"] + [f"{_stamp(i)},{v}" for i, v in enumerate(values)]
    (data / "a.csv").write_text("\n".join(lines) + "\n")
    quiet = ["timestamp,value"] + [f"{_stamp(i)},1" for i in range(10)]
    (data / "b.csv").write_text("\n".join(quiet) + "\n")
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"a.csv": [[_stamp(2), _stamp(4)]]}))
    return data, labels


def test_the_report_counts_every_row_the_alarm_stands_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, labels = _data(tmp_path)
    code = main(["score-csv", str(data), "--out", str(tmp_path / "out"), "--detector",
                 "threshold", "--params", '{"upper": 5, "clear": 2}', "--labels", str(labels),
                 "--report"])  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    table = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    # a.csv: 3 labelled rows all alarmed (tp 3), 1 false alarm among 7 normal rows
    assert table["threshold/threshold_a.csv"] == ["10", "3", "0.86", "14.3%", "0.0%"]
    assert table["threshold/threshold_b.csv"] == ["10", "0", "0.00", "0.0%", "0.0%"]
    assert table["total"] == ["20", "3", "0.86", "5.9%", "0.0%"]


def test_the_report_needs_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _ = _data(tmp_path)
    assert main(["score-csv", str(data), "--out", str(tmp_path / "o"), "--report"]) == 2
    assert "--report needs --labels" in capsys.readouterr().err


def test_the_totals_add_the_files_up() -> None:
    a, b = Tally(tp=3, fp=1, fn=1, tn=5), Tally(tp=0, fp=2, fn=3, tn=10)
    *_, total = render([("a", a), ("b", b)])
    assert total.split() == ["total", "25", "7", "0.46", "16.7%", "57.1%"]  # F1 = 6 / 13


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_is_drawn_on_a_terminal_only() -> None:
    term, log = _Terminal(), io.StringIO()
    for stream in (term, log):
        bar = Progress(stream, total=4, width=8)
        for done in range(1, 5):
            bar(done, f"f{done}.csv")
    assert log.getvalue() == ""
    frames = term.getvalue().split("\r")[1:]
    assert frames[1].startswith("[####....] 2/4 files  f2.csv")
    assert frames[-1].startswith("[########] 4/4 files") and frames[-1].endswith("\n")
