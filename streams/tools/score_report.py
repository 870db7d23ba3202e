"""``yujing score-csv --report``: how the ``alert`` column of a replay matches its labels.

(readings → **signal**, offline.) Point-wise, row by row: a row is a true
positive when it is labelled anomalous and the detector's alarm stands there,
a false alarm when the alarm stands on a normal row, a miss when a labelled
row has no alarm. Per file and in total: F1, the false-alarm rate (false
alarms among normal rows) and the miss rate (misses among labelled rows).
While files replay, a progress bar goes to standard error when it is a
terminal.

>>> t = Tally()
>>> for label, alert in [(1, 1), (1, 0), (0, 0), (0, 1), (0, 0)]:
...     t.add(label, alert)
>>> round(t.f1, 3), round(t.false_alarm_rate, 3), t.miss_rate
(0.5, 0.333, 0.5)
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


@dataclass
class Tally:
    """Counts of rows by (label, alert)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, label: int, alert: int) -> None:
        if label:
            if alert:
                self.tp += 1
            else:
                self.fn += 1
        elif alert:
            self.fp += 1
        else:
            self.tn += 1

    def __iadd__(self, other: Tally) -> Tally:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.tn += other.tn
        return self

    @property
    def rows(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def f1(self) -> float:
        """2 TP / (2 TP + FP + FN); 0 when there is nothing to find and nothing was found."""
        den = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / den if den else 0.0

    @property
    def false_alarm_rate(self) -> float:
        normal = self.fp + self.tn
        return self.fp / normal if normal else 0.0

    @property
    def miss_rate(self) -> float:
        labelled = self.tp + self.fn
        return self.fn / labelled if labelled else 0.0


def tally_file(path: Path) -> Tally:
    """The tally of one results file (its ``label`` and ``alert`` columns)."""
    tally = Tally()
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            tally.add(int(row["label"]), int(row["alert"]))
    return tally


def render(per_file: Sequence[tuple[str, Tally]]) -> list[str]:
    """The report's lines: one per file, then the total."""
    width = max([len(name) for name, _ in per_file] + [5])
    head = f"{'file':<{width}}  {'rows':>7}  {'labelled':>8}  {'F1':>5}  {'false alarms':>12}"
    lines = [head + f"  {'misses':>6}"]
    total = Tally()
    for name, tally in per_file:
        total += tally
        lines.append(_line(name, tally, width))
    lines.append(_line("total", total, width))
    return lines


def _line(name: str, t: Tally, width: int) -> str:
    return (
        f"{name:<{width}}  {t.rows:>7}  {t.tp + t.fn:>8}  {t.f1:>5.2f}  "
        f"{t.false_alarm_rate:>12.1%}  {t.miss_rate:>6.1%}"
    )


class Progress:
    """A one-line progress bar on ``stream``, drawn only when it is a terminal."""

    def __init__(self, stream: TextIO, total: int, width: int = 30) -> None:
        self.stream, self.total, self.width = stream, total, width
        self.on = stream.isatty() and total > 0

    def __call__(self, done: int, name: str) -> None:
        if not self.on:
            return
        filled = self.width * done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{self.total} files  {name[-40:]:<40}")
        if done == self.total:
            self.stream.write("\n")
        self.stream.flush()
