"""``yujing score-csv``: replay CSV files through a detector, NAB's results layout out.

(readings → **signal**, offline.) Pure replay, no broker: each CSV under
``DATA_DIR`` is one sensor; its rows go, in timestamp order, through the same
detector class (looked up by kind in :data:`streams.core.signals.detectors.REGISTRY`)
and the same :class:`streams.core.signals.trigger.Trigger` the pipeline uses, with a
fresh detector per file.

Input: a ``timestamp`` column (ISO 8601; no offset means UTC) and one or more
numeric columns; several numeric columns form one multivariate
:class:`~streams.core.signals.detectors.base.Point` (``value`` is the first, ``values``
all of them).

Without ``--detector`` a CSV of several numeric columns (one machine's channels) is
replayed through ``mahalanobis`` and one of a single column through ``likelihood``.

Output: ``OUT_DIR/<detector>/<same relative folder>/<detector>_<file name>``
with the columns ``timestamp,value,anomaly_score,label,alert`` -- the
Numenta Anomaly Benchmark's results layout:

* ``anomaly_score``: the detector's ``score_one`` before it learns the row, in [0, 1];
* ``alert``: the detector's own decision: 1 on every row while its alarm stands, from
  the row its trigger fires to the row before it re-arms (0 during warm-up);
* ``label``: from ``--labels`` (keys are paths relative to ``DATA_DIR``), else 0.
  NAB's convention for its results files is **1 for every row inside an
  anomaly window**: give NAB's ``combined_windows.json`` (file → list of
  ``[start, end]``) to get exactly that. A ``combined_labels.json``-style file
  (file → list of anomaly timestamps) marks only those rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.core.signals.detectors import REGISTRY, detector_class
from streams.core.signals.detectors.base import Detector, Point
from streams.core.signals.trigger import Trigger
from streams.tools.score_report import Progress, render, tally_file

#: Without ``--detector``: a CSV of several numeric columns (one machine's channels) goes to
#: the multivariate kind, one of a single column to the univariate one.
AUTO = {"multi": "mahalanobis", "single": "likelihood"}


class CsvError(ValueError):
    """A CSV that cannot be replayed; the message names the file and line."""


@dataclass(frozen=True)
class Row:
    line: int
    stamp: str
    t: datetime
    values: dict[str, float]


def _parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.strip())
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def read_rows(path: Path) -> tuple[list[str], list[Row]]:
    """The numeric column names and the rows of one CSV, sorted by timestamp."""
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise CsvError(f"{path}:1: empty file (need a header with 'timestamp')") from None
        if "timestamp" not in header:
            raise CsvError(f"{path}:1: no 'timestamp' column in header {header}")
        ti = header.index("timestamp")
        cols = [(i, h) for i, h in enumerate(header) if i != ti]
        if not cols:
            raise CsvError(f"{path}:1: no numeric column besides 'timestamp'")
        rows: list[Row] = []
        for n, rec in enumerate(reader, start=2):
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                raise CsvError(f"{path}:{n}: {len(rec)} fields, header has {len(header)}")
            try:
                t = _parse_time(rec[ti])
            except ValueError:
                raise CsvError(f"{path}:{n}: bad timestamp {rec[ti]!r}") from None
            values: dict[str, float] = {}
            for i, name in cols:
                try:
                    v = float(rec[i])
                except ValueError:
                    raise CsvError(
                        f"{path}:{n}: column {name!r}: not a number: {rec[i]!r}"
                    ) from None
                if not math.isfinite(v):
                    raise CsvError(f"{path}:{n}: column {name!r}: not finite: {rec[i]!r}")
                values[name] = v
            rows.append(Row(n, rec[ti].strip(), t, values))
    rows.sort(key=lambda r: r.t)  # stable: equal timestamps keep file order
    return [h for _, h in cols], rows


def load_labels(path: Path) -> dict[str, list[tuple[datetime, datetime]]]:
    """Labels as closed intervals per relative path (a timestamp is a one-instant interval)."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CsvError(f"{path}: cannot read labels: {err}") from None
    if not isinstance(raw, dict):
        raise CsvError(f"{path}: labels must map file paths to lists")
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    for name, items in raw.items():
        spans: list[tuple[datetime, datetime]] = []
        for item in items:
            try:
                if isinstance(item, str):
                    t = _parse_time(item)
                    spans.append((t, t))
                else:
                    a, b = item
                    spans.append((_parse_time(a), _parse_time(b)))
            except (ValueError, TypeError):
                raise CsvError(f"{path}: {name}: bad label {item!r}") from None
        out[name] = spans
    return out


def _in_spans(t: datetime, spans: Sequence[tuple[datetime, datetime]]) -> int:
    return int(any(a <= t <= b for a, b in spans))


DetectorFactory = Callable[[], Detector[Any]]


def make_factory(
    kind: str, params: Mapping[str, Any] | None = None, seed: int = 0
) -> DetectorFactory:
    """A fresh detector of ``kind`` per file: ``params``, else the kind's ``sample_params()``."""
    cls = detector_class(kind)
    if cls.input != "point":
        raise ValueError(f"detector kind {kind!r} reads department records, not sensor CSVs")
    if params is None:
        sample = getattr(cls, "sample_params", None)
        params = sample() if callable(sample) else {}
    fixed = dict(params)
    return lambda: cls.from_params(fixed, seed)


def score_rows(
    det: Detector[Any],
    trigger: Trigger,
    rows: Sequence[Row],
    event_prefix: str = "",
) -> Iterator[tuple[Row, float, int]]:
    """Each row with its anomaly score and whether the alarm stands there, learning as it
    goes (score, then learn)."""
    state: dict[str, Any] | None = None
    for row in rows:
        first = next(iter(row.values.values()))
        point = Point(t=row.t, value=first, values=row.values, event_id=f"{event_prefix}{row.line}")
        score = det.score_one(point)
        if not (0.0 <= score <= 1.0):
            raise ValueError(
                f"{det.kind}: score {score!r} outside [0, 1] at {event_prefix}{row.line}"
            )
        state, _ = trigger.step(state, score, row.t, det.is_warm())
        det.learn_one(point)
        yield row, score, int(bool(state.get("a")))


def replay_dir(
    data_dir: Path,
    out_dir: Path,
    name: str,
    factory: DetectorFactory,
    labels: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None,
    trigger: Trigger | None = None,
    progress: Callable[[int, str], None] | None = None,
    auto: bool = False,
) -> list[Path]:
    """Replay every ``*.csv`` under ``data_dir``; return the results files written.
    ``progress(done, name)`` is called after each file. ``auto``: ``name`` and ``factory``
    are chosen per file by its number of numeric columns (:data:`AUTO`)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise CsvError(f"{data_dir}: not a directory")
    written: list[Path] = []
    for src in sorted(data_dir.rglob("*.csv")):
        rel = src.relative_to(data_dir)
        columns, rows = read_rows(src)
        if auto:
            name = AUTO["multi" if len(columns) > 1 else "single"]
            factory = make_factory(name)
        det = factory()
        trig = trigger or det.default_trigger()
        spans = (labels or {}).get(rel.as_posix(), [])
        dest = Path(out_dir) / name / rel.parent / f"{name}_{rel.name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["timestamp", "value", "anomaly_score", "label", "alert"])
            for row, score, alert in score_rows(det, trig, rows, f"{rel.as_posix()}:"):
                value = next(iter(row.values.values()))
                w.writerow(
                    [
                        row.stamp,
                        repr(value),
                        repr(score),
                        _in_spans(row.t, spans) if spans else 0,
                        alert,
                    ]
                )
        written.append(dest)
        if progress is not None:
            progress(len(written), rel.as_posix())
    return written


def _run(args: argparse.Namespace) -> int:
    kind = args.detector
    try:
        params = json.loads(args.params) if args.params else None
        if params is not None and not isinstance(params, dict):
            raise ValueError("--params must be a JSON object")
        if kind is None and (params is not None or args.trigger):
            raise ValueError("--params and --trigger need --detector")
        factory = make_factory(kind or AUTO["single"], params, args.seed)
        trigger = Trigger.from_params(json.loads(args.trigger)) if args.trigger else None
        labels = load_labels(Path(args.labels)) if args.labels else None
        if args.report and labels is None:
            raise ValueError("--report needs --labels (what the alerts are judged against)")
        data = Path(args.data_dir)
        bar = Progress(sys.stderr, len(list(data.rglob("*.csv")))) if args.report else None
        name = kind or "auto"
        written = replay_dir(
            data, Path(args.out), name, factory, labels, trigger, bar, auto=kind is None
        )
    except (ValueError, OSError) as err:
        print(f"yujing score-csv: {err}", file=sys.stderr)
        return 2
    kinds = sorted({p.relative_to(args.out).parts[0] for p in written})
    print(f"yujing score-csv: {len(written)} files → {Path(args.out)} ({', '.join(kinds)})")
    if args.report:
        out = Path(args.out)
        for line in render([(p.relative_to(out).as_posix(), tally_file(p)) for p in written]):
            print(line)
    return 0


def add_score_csv_command(subparsers: Any) -> None:
    """Add ``score-csv`` to the ``yujing`` command's subparsers."""
    p = subparsers.add_parser(
        "score-csv",
        help="replay CSVs through a detector (no broker); NAB results layout out",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder of CSVs (searched recursively)")
    p.add_argument("--out", required=True, metavar="OUT_DIR", help="results folder")
    p.add_argument(
        "--detector",
        metavar="NAME",
        help=f"detector kind (default: {AUTO['multi']} for a CSV of several numeric columns, "
        f"{AUTO['single']} for one); known: {', '.join(sorted(REGISTRY))}",
    )
    p.add_argument(
        "--params", metavar="JSON", help="detector parameters (default: the kind's sample_params())"
    )
    p.add_argument("--trigger", metavar="JSON", help="trigger parameters (default: the kind's)")
    p.add_argument(
        "--labels",
        metavar="FILE",
        help="JSON: file → windows [[start, end], ...] (NAB combined_windows.json) or timestamps",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--report",
        action="store_true",
        help="print point-wise F1, false-alarm and miss rates of the alert column per file "
        "and in total (needs --labels); a progress bar on a terminal",
    )
    p.set_defaults(func=_run)
