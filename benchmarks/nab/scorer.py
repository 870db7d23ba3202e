"""The Numenta Anomaly Benchmark (NAB) score, implemented from its published method.

Sources: Lavin & Ahmad, "Evaluating Real-time Anomaly Detection Algorithms --
the Numenta Anomaly Benchmark" (ICMLA 2015); Ahmad, Lavin, Purdy & Agha,
"Unsupervised real-time anomaly detection for streaming data" (Neurocomputing
2017); the NAB README and wiki ("NAB scoring details"). Written from those
formulas, not from NAB's code.

The method, as implemented here:

* **Windows.** Each labelled anomaly sits in a window (``combined_windows.json``:
  file → list of ``[start, end]`` timestamps, both inclusive).
* **Probationary period.** The first ``min(floor(0.15 * n), 0.15 * 5000)`` rows
  of a file (``n`` rows) are not scored: a detector is still learning there.
* **Scaled sigmoid.** ``S(y) = 2 / (1 + e^{5y}) - 1`` for ``y <= 3``, else -1.
  ``y`` is the relative position of a detection: inside a window of ``w`` rows
  whose last row has index ``r``, the row ``i`` has ``y = -(r - i + 1) / w``
  (-1 at the window's first row, close to 0 at its last); outside every
  window, ``y = (i - r') / (w' - 1)`` after the preceding window (last index
  ``r'``, width ``w'``), so a false positive right after a window costs little
  and one far after it (``y > 3``) costs the full -1; before the first window,
  a false positive costs the full -1 as well.
* **Weights (application profiles).** A detection inside a window is worth
  ``A_TP · S(y) / S(-1)`` (so ``A_TP`` at the window's first row); only the
  first detection in a window counts (the sigmoid decreases along the window,
  so that is the window's best). A detection outside windows is worth
  ``A_FP · S(y)`` (negative), each one counted. A window with no detection
  costs ``-A_FN``. True negatives are not scored (``A_TN`` is listed for
  completeness; NAB gives it weight 1 and uses it nowhere in the sum).
* **Threshold optimisation.** A detector reports an ``anomaly_score`` in [0, 1];
  a row is a detection when its score is ``>= threshold``. For each profile the
  threshold is chosen to maximise that profile's total score over the whole
  corpus (one threshold per detector and profile, never per file).
* **Normalisation.** ``100 · (S - S_null) / (S_perfect - S_null)``, where the
  null detector (never detects) scores ``-A_FN`` per window and the perfect
  detector (detects every window at its first row, nothing else) ``A_TP`` per
  window; so null → 0 and perfect → 100.

Only windows with at least one scored (post-probation) row count.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

PROBATION_PERCENT = 0.15
PROBATION_MAX_ROWS = 5000


@dataclass(frozen=True)
class Profile:
    """An application profile: the weights of NAB's cost matrix."""

    name: str
    tp: float
    fp: float
    fn: float
    tn: float = 1.0


STANDARD = Profile("standard", tp=1.0, fp=0.11, fn=1.0)
REWARD_LOW_FP = Profile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0)
REWARD_LOW_FN = Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0)
PROFILES: dict[str, Profile] = {p.name: p for p in (STANDARD, REWARD_LOW_FP, REWARD_LOW_FN)}


def scaled_sigmoid(y: float) -> float:
    """NAB's scaled sigmoid ``2 / (1 + e^{5y}) - 1``, and -1 beyond ``y = 3``.

    >>> round(scaled_sigmoid(-1.0), 4), scaled_sigmoid(0.0), scaled_sigmoid(3.5)
    (0.9866, 0.0, -1.0)
    """
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probation_length(n_rows: int) -> int:
    """Rows at the start of a file that are not scored.

    >>> probation_length(1000), probation_length(4032), probation_length(22695)
    (150, 604, 750)
    """
    return int(min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_PERCENT * PROBATION_MAX_ROWS))


def parse_timestamp(text: str) -> datetime:
    """NAB timestamps: ``2014-04-10 07:15:00`` with optional fractional seconds."""
    return datetime.fromisoformat(text.strip())


def load_windows(path: str | Path) -> dict[str, list[tuple[datetime, datetime]]]:
    """``combined_windows.json``: relative file path → ``[(start, end), ...]``."""
    raw = json.loads(Path(path).read_text())
    return {
        name: sorted((parse_timestamp(a), parse_timestamp(b)) for a, b in windows)
        for name, windows in raw.items()
    }


@dataclass(frozen=True)
class FileRows:
    """The scorable rows of one file: per row its anomaly score, window and weight base.

    ``window[k]`` is the window number (within the file) of row ``k`` or -1;
    ``position[k]`` is the unweighted scaled sigmoid of that row.
    """

    name: str
    scores: tuple[float, ...]
    window: tuple[int, ...]
    position: tuple[float, ...]
    n_windows: int


def file_rows(
    name: str,
    timestamps: Sequence[datetime],
    scores: Sequence[float],
    windows: Sequence[tuple[datetime, datetime]],
) -> FileRows:
    """Place every scorable row of a file relative to its windows (probation dropped)."""
    if len(timestamps) != len(scores):
        raise ValueError(f"{name}: {len(timestamps)} timestamps but {len(scores)} scores")
    n = len(timestamps)
    # index ranges [first, last] of each window, in row order
    spans: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        first = bisect.bisect_left(timestamps, start)
        last = bisect.bisect_right(timestamps, end) - 1
        if last >= first:
            spans.append((first, last))
    probation = probation_length(n)
    win_of = [-1] * n
    pos = [0.0] * n
    prev: tuple[int, int] | None = None
    span_i = 0
    for i in range(n):
        while span_i < len(spans) and spans[span_i][1] < i:
            prev = spans[span_i]
            span_i += 1
        if span_i < len(spans) and spans[span_i][0] <= i:
            first, last = spans[span_i]
            width = last - first + 1
            win_of[i] = span_i
            pos[i] = scaled_sigmoid(-(last - i + 1) / width)
        elif prev is None:
            pos[i] = -1.0
        else:
            width = prev[1] - prev[0] + 1
            pos[i] = scaled_sigmoid((i - prev[1]) / max(width - 1, 1))
    # renumber the windows that keep at least one scored row
    kept: dict[int, int] = {}
    for w in win_of[probation:]:
        if w >= 0 and w not in kept:
            kept[w] = len(kept)
    return FileRows(
        name=name,
        scores=tuple(float(s) for s in scores[probation:]),
        window=tuple(kept[w] if w >= 0 else -1 for w in win_of[probation:]),
        position=tuple(pos[probation:]),
        n_windows=len(kept),
    )


@dataclass
class ProfileResult:
    """The best threshold of one profile and what it scores."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float
    tp: int
    fp: int
    fn: int
    per_file: dict[str, float] = field(default_factory=dict)

    @property
    def normalized(self) -> float:
        return 100.0 * (self.raw - self.null) / (self.perfect - self.null)


def _raw_at(rows: FileRows, threshold: float, profile: Profile) -> tuple[float, int, int, int]:
    """Raw score of one file when rows scoring ``>= threshold`` are detections."""
    best = [-profile.fn] * rows.n_windows
    hit = [False] * rows.n_windows
    fp_sum, fp_n = 0.0, 0
    for s, w, p in zip(rows.scores, rows.window, rows.position, strict=True):
        if s < threshold:
            continue
        if w >= 0:
            v = profile.tp * p / MAX_TP
            if not hit[w] or v > best[w]:
                best[w], hit[w] = v, True
        else:
            fp_sum += profile.fp * p
            fp_n += 1
    tp = sum(hit)
    return sum(best) + fp_sum, tp, fp_n, rows.n_windows - tp


def best_threshold(files: Sequence[FileRows], profile: Profile) -> tuple[float, float]:
    """Sweep every distinct anomaly score (high to low); return (threshold, raw total).

    The threshold 1.1 (nothing detected, the null detector's score) is the
    starting point, so the result is never below the null score.
    """
    events: list[tuple[float, int, int, float]] = []  # (score, file, window, position)
    offsets: list[int] = []
    n_windows = 0
    for f in files:
        offsets.append(n_windows)
        n_windows += f.n_windows
    for fi, f in enumerate(files):
        base = offsets[fi]
        for s, w, p in zip(f.scores, f.window, f.position, strict=True):
            events.append((s, base + w if w >= 0 else -1, fi, p))
    events.sort(key=lambda e: -e[0])
    best_window = [-profile.fn] * n_windows
    total = -profile.fn * n_windows
    best_total, best_thr = total, 1.1
    i = 0
    while i < len(events):
        thr = events[i][0]
        while i < len(events) and events[i][0] == thr:
            _, w, _, p = events[i]
            if w >= 0:
                v = profile.tp * p / MAX_TP
                if v > best_window[w]:
                    total += v - best_window[w]
                    best_window[w] = v
            else:
                total += profile.fp * p
            i += 1
        if total > best_total + 1e-12:
            best_total, best_thr = total, thr
    return best_thr, best_total


def score_profile(
    files: Sequence[FileRows], profile: Profile, threshold: float | None = None
) -> ProfileResult:
    """Optimise the threshold for ``profile`` over all files (NAB's method), or take
    ``threshold`` as given (one learnt elsewhere), then score each file."""
    thr = best_threshold(files, profile)[0] if threshold is None else threshold
    n_windows = sum(f.n_windows for f in files)
    result = ProfileResult(
        profile=profile.name,
        threshold=thr,
        raw=0.0,
        null=-profile.fn * n_windows,
        perfect=profile.tp * n_windows,
        tp=0,
        fp=0,
        fn=0,
    )
    for f in files:
        raw, tp, fp, fn = _raw_at(f, thr, profile)
        result.per_file[f.name] = raw
        result.raw += raw
        result.tp += tp
        result.fp += fp
        result.fn += fn
    return result


def score_all(
    files: Sequence[FileRows], profiles: Iterable[Profile] = PROFILES.values()
) -> dict[str, ProfileResult]:
    return {p.name: score_profile(files, p) for p in profiles}


def read_results_csv(path: str | Path) -> tuple[list[datetime], list[float]]:
    """Timestamps and ``anomaly_score`` of a NAB-format results file."""
    import csv

    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "anomaly_score" not in reader.fieldnames:
            raise ValueError(f"{path}: no anomaly_score column")
        ts: list[datetime] = []
        scores: list[float] = []
        for row in reader:
            ts.append(parse_timestamp(row["timestamp"]))
            scores.append(float(row["anomaly_score"]))
    return ts, scores


def score_results_dir(
    results_dir: str | Path,
    detector: str,
    windows: Mapping[str, Sequence[tuple[datetime, datetime]]],
    profiles: Iterable[Profile] = PROFILES.values(),
) -> dict[str, ProfileResult]:
    """Score ``results_dir/<detector>/<folder>/<detector>_<file>`` for every labelled file."""
    files: list[FileRows] = []
    root = Path(results_dir) / detector
    for name in sorted(windows):
        rel = Path(name)
        path = root / rel.parent / f"{detector}_{rel.name}"
        if not path.exists():
            raise FileNotFoundError(f"{path}: no results for {name}")
        ts, scores = read_results_csv(path)
        files.append(file_rows(name, ts, scores, windows[name]))
    return score_all(files, profiles)
