"""NAB scores of yujing's detectors, through ``yujing score-csv`` and our NAB scorer.

Run from the repository root::

    .venv/bin/python -m benchmarks.nab_score [--nab DIR] [--out DIR] [--detectors a,b]
                                             [--catalogue [FILE]]

The corpus comes from ``--nab``, else ``$YUJING_NAB_DIR``, else
``../shared/data/nab`` relative to the repository root (``data/`` and
``labels/combined_windows.json``); it is never copied into the repository.
Each detector replays every file through :func:`streams.tools.score_csv.replay_dir`
(the code behind ``yujing score-csv``, one parameter set for the whole
corpus: the kind's ``sample_params()``), the results files are written in
NAB's layout under ``--out`` (default: a temporary folder) and read back by
:mod:`benchmarks.nab.scorer`, which optimises one threshold per profile.
Two baselines run in the same invocation: ``null`` (always 0) and ``random``
(uniform scores, seed 0). ``--catalogue`` adds, instead of the kinds' sample
parameters, every distinct learnt one-channel detector the catalogue deploys
(kind and parameters, named after its risk points): what is measured is what
is deployed. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import zlib
from collections.abc import Mapping
from multiprocessing import Pool
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.baselines import Null
from benchmarks.nab.scorer import PROFILES, load_windows, score_results_dir
from streams.core.signals.detectors import REGISTRY
from streams.core.signals.detectors.base import Point
from streams.tools.score_csv import DetectorFactory, load_labels, make_factory, replay_dir

REPO = Path(__file__).resolve().parents[1]
DEFAULT_NAB = REPO.parent / "shared" / "data" / "nab"
DEFAULT_DETECTORS = ("likelihood", "surprise", "seasonal_zscore", "level_shift", "null", "random")


class _Random(Null):
    """Uniform random scores, seeded: what chance alone scores."""

    kind = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rnd = random.Random(seed)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int = 0) -> _Random:
        return cls(seed)

    def score_one(self, x: Point) -> float:
        return self.rnd.random()


#: kinds the catalogue deploys that need no learning: a fixed limit is not scored on NAB
UNLEARNT = frozenset({"threshold"})


def factory(name: str, params: Mapping[str, Any] | None = None) -> DetectorFactory:
    if name == "null":
        return Null
    if name == "random":
        return lambda: _Random(0)
    return make_factory(name.split("[")[0], params)


def deployed(path: Path | None) -> list[tuple[str, dict[str, Any]]]:
    """Every distinct (kind, parameters) of the catalogue's learnt one-channel sensor
    detectors, named ``kind[risk points]``."""
    from streams.core.shared.catalogue import DEFAULT_PATH, load_catalogue

    catalogue = load_catalogue(path or DEFAULT_PATH)
    found: dict[str, tuple[str, dict[str, Any], list[str]]] = {}
    for rp in catalogue.risk_points:
        spec = rp.detector
        if spec.cls.input != "point" or spec.kind in UNLEARNT or spec.kind == "mahalanobis":
            continue
        key = json.dumps([spec.kind, spec.params], sort_keys=True)
        found.setdefault(key, (spec.kind, dict(spec.params), []))[2].append(rp.id)
    return [(f"{kind}[{','.join(ids)}]", params) for kind, params, ids in found.values()]


def nab_dir(arg: str | None) -> Path:
    return Path(arg or os.environ.get("YUJING_NAB_DIR") or DEFAULT_NAB)


def run_one(job: tuple[str, dict[str, Any] | None, str, str]) -> dict[str, Any]:
    name, params, nab, out = job
    t = time.perf_counter()
    labels = load_labels(Path(nab) / "labels" / "combined_windows.json")
    # a deployed detector's name lists its risk points: its folder is named by a digest
    safe = f"{name.split('[')[0]}-{zlib.crc32(name.encode()):08x}" if "[" in name else name
    files = replay_dir(Path(nab) / "data", Path(out), safe, factory(name, params), labels)
    replay_s = time.perf_counter() - t
    windows = load_windows(Path(nab) / "labels" / "combined_windows.json")
    results = score_results_dir(out, safe, windows)
    return {
        "detector": name,
        "params": params,
        "files": len(files),
        "replay_s": round(replay_s, 1),
        "profiles": {
            p: {
                "score": round(r.normalized, 2),
                "threshold": r.threshold,
                "tp": r.tp,
                "fp": r.fp,
                "fn": r.fn,
            }
            for p, r in results.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--nab", help=f"NAB corpus (default $YUJING_NAB_DIR or {DEFAULT_NAB})")
    ap.add_argument("--out", help="results folder (default: a temporary one)")
    ap.add_argument("--detectors", default=",".join(DEFAULT_DETECTORS))
    ap.add_argument(
        "--catalogue",
        nargs="?",
        const="",
        help="score the detectors the catalogue deploys (default: the shipped catalogue)",
    )
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    args = ap.parse_args(argv)
    nab = nab_dir(args.nab)
    if not (nab / "labels" / "combined_windows.json").exists():
        print(f"nab_score: no NAB corpus at {nab} (use --nab or $YUJING_NAB_DIR)", file=sys.stderr)
        return 2
    names = [d.strip() for d in args.detectors.split(",") if d.strip()]
    for n in names:
        if n not in ("null", "random") and n not in REGISTRY:
            print(f"nab_score: unknown detector {n!r}; known: {sorted(REGISTRY)}", file=sys.stderr)
            return 2
    todo: list[tuple[str, dict[str, Any] | None]] = [(n, None) for n in names]
    if args.catalogue is not None:
        todo += deployed(Path(args.catalogue) if args.catalogue else None)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        jobs = [(n, p, str(nab), out) for n, p in todo]
        with Pool(max(1, min(args.jobs, len(jobs)))) as pool:
            rows = pool.map(run_one, jobs)
    profiles = list(PROFILES)
    print(f"NAB corpus {nab}: {rows[0]['files']} files; scores normalised (null 0, perfect 100)")
    print(f"{'detector':<16}" + "".join(f"{p:>20}" for p in profiles) + f"{'replay s':>10}")
    for r in rows:
        cells = "".join(f"{r['profiles'][p]['score']:20.2f}" for p in profiles)
        name = r["detector"] if len(r["detector"]) <= 16 else r["detector"][:13] + "..."
        print(f"{name:<16}{cells}{r['replay_s']:10.1f}")
    for r in rows:
        s = r["profiles"]["standard"]
        print(
            f"  {r['detector']}: standard threshold {s['threshold']:.4g}, "
            f"windows found {s['tp']}, missed {s['fn']}, false positives {s['fp']}"
        )
    print(json.dumps({"nab": str(nab), "results": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
