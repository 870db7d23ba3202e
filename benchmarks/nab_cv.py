"""NAB without look-ahead: a detector kind's parameters chosen by two-fold cross-validation.

Run from the repository root::

    .venv/bin/python -m benchmarks.nab_cv [--kind likelihood] [--nab DIR] [--seed 0]
        [--splits 10] [--split random|stratified] [--jobs 2] [--add NAME=V1,V2 ...]

The protocol (docs/detection.md states it with the figures):

1. The corpus's files are shuffled with ``--seed`` and split in two folds, by
   file (a file's rows never sit in both). ``--split stratified`` deals each NAB
   category's files to both folds instead (measured beside the protocol: it does
   not narrow the folds' spread).
2. Every parameter set of the kind's grid (:data:`GRID`) replays every file
   online, as ``yujing score-csv`` does: score, then learn, one row at a time;
   no parameter or range comes from a file's future (the detector learns its
   quantiser from its own first rows).
3. For each fold, the parameter set that scores best on the *other* fold (NAB's
   standard profile, its threshold optimised there) is scored on this fold:
   with the threshold learnt on the other fold ("held out"), and with NAB's own
   method, which optimises the threshold on the files scored ("official").
4. The full corpus is scored by the official method with the parameter set that
   scores best over it: the set ``sample_params()`` deploys. The held-out folds
   within a few points of it say the choice does not overfit.
5. One split is one draw: which files a half holds moves its score by itself. The
   same replays are split again with the next ``--splits - 1`` seeds, and for
   every fold of every split the held-out score is set beside the deployed
   defaults' score on the same files (NAB's method): their difference is what
   choosing on the other half costs, and the defaults' spread over the halves is
   how far a half's score strays from the full corpus with no choosing at all.

``--add NAME=V1,V2`` widens the grid by a parameter for one run (values as JSON,
``--add avg_n=5,10``): how a candidate the defaults do not use fares under the same
protocol. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from multiprocessing import Pool
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.nab.scorer import PROFILES, FileRows, file_rows, load_windows, score_profile
from benchmarks.nab_score import nab_dir
from streams.core.signals.detectors import REGISTRY
from streams.core.signals.detectors.base import Point
from streams.tools.score_csv import read_rows

#: Per kind, the parameter grid searched (every combination); the rest are the defaults.
GRID: dict[str, dict[str, list[Any]]] = {
    "likelihood": {
        "backoff": [0.1, 0.5, 2.0],
        "spatial_tol": [0.01, 0.03],
        "rest_s": [18000.0, 36000.0],
        "calm_s": [3600.0, 10800.0],
        "warmup": [200, 400],
        "scales": [(1, 8), (1, 32)],
        "phases": [0, 24],
    },
}
#: Fixed beside the grid, per kind.
FIXED: dict[str, dict[str, Any]] = {"likelihood": {"rest_level": 0.4, "forget": 0.0002}}
STANDARD = PROFILES["standard"]


def combos(kind: str, add: Mapping[str, Sequence[Any]] | None = None) -> list[dict[str, Any]]:
    """Every parameter set of ``kind``'s grid (widened by ``add``), the fixed ones included."""
    grid = {**GRID[kind], **(add or {})}
    keys = sorted(grid)
    return [
        {**FIXED.get(kind, {}), **dict(zip(keys, values, strict=True))}
        for values in itertools.product(*(grid[k] for k in keys))
    ]


def folds(names: Sequence[str], seed: int, stratify: bool = False) -> tuple[set[str], set[str]]:
    """The files split in two by a seeded shuffle; with ``stratify``, each folder's
    (NAB's category's) files are shuffled and dealt alternately to the two folds, the
    deal running on from one folder to the next so that the folds differ by at most
    one file.

    >>> names = [f"{d}/{i}.csv" for d in "ab" for i in range(3)]
    >>> a, b = folds(names, seed=0, stratify=True)
    >>> sorted(len([n for n in f if n.startswith(d)]) for f in (a, b) for d in "ab")
    [1, 1, 2, 2]
    """
    rng = random.Random(seed)
    if not stratify:
        order = sorted(names)
        rng.shuffle(order)
        half = len(order) // 2
        return set(order[:half]), set(order[half:])
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        groups.setdefault(name.rpartition("/")[0], []).append(name)
    dealt: tuple[set[str], set[str]] = (set(), set())
    turn = 0
    for group in sorted(groups):
        members = groups[group]
        rng.shuffle(members)
        for name in members:
            dealt[turn % 2].add(name)
            turn += 1
    return dealt


def replay(job: tuple[str, Mapping[str, Any], str]) -> list[FileRows]:
    """Every file of the corpus at ``nab`` scored online by ``kind`` with ``params``."""
    kind, params, nab = job
    root = Path(nab)
    windows = load_windows(root / "labels" / "combined_windows.json")
    cls = REGISTRY[kind]
    out = []
    for src in sorted((root / "data").rglob("*.csv")):
        rel = src.relative_to(root / "data").as_posix()
        _, rows = read_rows(src)
        det = cls.from_params(params)
        scores: list[float] = []
        stamps: list[datetime] = []
        for row in rows:
            point = Point(t=row.t, value=next(iter(row.values.values())))
            scores.append(det.score_one(point))
            det.learn_one(point)
            stamps.append(row.t.replace(tzinfo=None))  # NAB's windows are naive UTC
        out.append(file_rows(rel, stamps, scores, windows.get(rel, [])))
    return out


def _score(files: Sequence[FileRows], threshold: float | None = None) -> tuple[float, float]:
    """NAB standard score (normalised) of ``files``, and the threshold used: optimised on
    them (NAB's method) unless ``threshold`` is given."""
    result = score_profile(files, STANDARD)
    if threshold is None:
        return result.normalized, result.threshold
    fixed = score_profile(files, STANDARD, threshold=threshold)
    return fixed.normalized, threshold


def cross_validate(
    scored: Sequence[Sequence[FileRows]],
    sets: Sequence[Mapping[str, Any]],
    seed: int,
    stratify: bool = False,
) -> list[dict[str, Any]]:
    """Both folds of the split by ``seed``: each scored with the set chosen on the other."""
    halves = folds([f.name for f in scored[0]], seed, stratify)
    rows: list[dict[str, Any]] = []
    for k, test in enumerate(halves):
        train = halves[1 - k]
        on_train = [_score([f for f in files if f.name in train]) for files in scored]
        best = max(range(len(sets)), key=lambda i: on_train[i][0])
        test_files = [f for f in scored[best] if f.name in test]
        held, thr = _score(test_files, on_train[best][1])
        official, _ = _score(test_files)
        rows.append(
            {
                "fold": k + 1,
                "files": len(test_files),
                "test": test,
                "params": sets[best],
                "train": round(on_train[best][0], 2),
                "held_out": round(held, 2),
                "held_out_threshold": thr,
                "official": round(official, 2),
            }
        )
    return rows


def splits_summary(
    scored: Sequence[Sequence[FileRows]],
    splits: Sequence[Sequence[Mapping[str, Any]]],
    deployed: int,
    full: float,
) -> dict[str, float]:
    """Over ``splits`` (each :func:`cross_validate`'s two folds): the held-out scores, the
    deployed set's scores on the same folds (NAB's method), what choosing on the other
    half cost, and how far a half strays from the ``full`` corpus score with the deployed
    set itself."""
    held: list[float] = []
    plain: list[float] = []
    for rows in splits:
        for row in rows:
            held.append(row["held_out"])
            plain.append(_score([f for f in scored[deployed] if f.name in row["test"]])[0])
    worst = [full - min(held[i], held[i + 1]) for i in range(0, len(held), 2)]
    costs = [p - h for p, h in zip(plain, held, strict=True)]
    return {
        "splits": len(splits),
        "held_out_mean": round(statistics.mean(held), 2),
        "held_out_min": round(min(held), 2),
        "held_out_max": round(max(held), 2),
        "defaults_mean": round(statistics.mean(plain), 2),
        "defaults_sd": round(statistics.stdev(plain), 2) if len(plain) > 1 else 0.0,
        "choosing_costs": round(statistics.mean(costs), 2),
        "worst_fold_gap_mean": round(statistics.mean(worst), 2),
        "worst_fold_gap_max": round(max(worst), 2),
        "splits_within_3": sum(g <= 3.0 for g in worst),
        "folds_defaults_over_3_under": sum(full - p > 3.0 for p in plain),
    }


def _added(text: str) -> tuple[str, list[Any]]:
    """``NAME=V1,V2`` → (name, [v1, v2]), each value read as JSON (else kept as text)."""
    name, sep, values = text.partition("=")
    if not sep or not name or not values:
        raise ValueError(f"--add {text!r}: expected NAME=V1,V2")

    def value(v: str) -> Any:
        try:
            return json.loads(v)
        except json.JSONDecodeError:
            return v

    return name, [value(v) for v in values.split(",")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--kind", default="likelihood", choices=sorted(GRID))
    ap.add_argument("--nab", help="NAB corpus (default $YUJING_NAB_DIR or ../shared/data/nab)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--split",
        choices=("random", "stratified"),
        default="random",
        help="shuffle the files as one (the protocol), or deal each NAB category's files "
        "to both folds (measured beside it: docs/detection.md)",
    )
    ap.add_argument("--splits", type=int, default=10, help="splits summarised (seeds from --seed)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="widen the grid by a parameter for this run (values as JSON)",
    )
    args = ap.parse_args(argv)
    try:
        add = dict(_added(text) for text in args.add)
    except ValueError as exc:
        ap.error(str(exc))
    nab = nab_dir(args.nab)
    if not (nab / "labels" / "combined_windows.json").exists():
        print(f"nab_cv: no NAB corpus at {nab} (use --nab or $YUJING_NAB_DIR)", file=sys.stderr)
        return 2
    sets = combos(args.kind, add)
    started = time.perf_counter()
    with Pool(max(1, args.jobs)) as pool:
        scored = pool.map(replay, [(args.kind, p, str(nab)) for p in sets])
    replay_s = time.perf_counter() - started
    names = [f.name for f in scored[0]]
    seeds = range(args.seed, args.seed + max(1, args.splits))
    stratify = args.split == "stratified"
    splits = [cross_validate(scored, sets, seed, stratify) for seed in seeds]
    rows = splits[0]
    full = [_score(files) for files in scored]
    best = max(range(len(sets)), key=lambda i: full[i][0])
    print(
        f"NAB corpus {nab}: {len(names)} files, {args.kind}, {len(sets)} parameter sets, "
        f"seed {args.seed}, {args.split} split, replayed in {replay_s:.0f} s; "
        "NAB standard, without look-ahead"
    )
    for r in rows:
        print(
            f"  fold {r['fold']} ({r['files']} files): chosen on the other fold "
            f"({r['train']:.2f} there) → held out {r['held_out']:.2f} with its threshold, "
            f"{r['official']:.2f} by NAB's method; {r['params']}"
        )
    print(f"  full corpus: {full[best][0]:.2f} by NAB's method with {sets[best]}")
    spread = splits_summary(scored, splits, best, full[best][0])
    print(
        f"  over {spread['splits']} splits (seeds {seeds.start}-{seeds.stop - 1}): held out "
        f"{spread['held_out_mean']:.2f} on average ({spread['held_out_min']:.2f}-"
        f"{spread['held_out_max']:.2f}); the defaults on the same folds "
        f"{spread['defaults_mean']:.2f} (sd {spread['defaults_sd']:.2f}), so choosing on the "
        f"other half costs {spread['choosing_costs']:.2f}; the worse fold is "
        f"{spread['worst_fold_gap_mean']:.2f} under the full corpus on average (at most "
        f"{spread['worst_fold_gap_max']:.2f}), both within 3 in {spread['splits_within_3']} of "
        f"{spread['splits']} splits; "
        f"the defaults themselves are more than 3 under it on "
        f"{spread['folds_defaults_over_3_under']} of {2 * spread['splits']} folds"
    )
    for r in rows:
        del r["test"]
    summary = {
        "kind": args.kind,
        "seed": args.seed,
        "split": args.split,
        "folds": rows,
        "full": {"score": round(full[best][0], 2), "params": sets[best]},
        "splits": spread,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
