"""NAB scores of what the catalogue deploys (benchmarks/nab_score.py ``--catalogue``).

The whole corpus takes a minute (``python -m benchmarks.nab_score --catalogue``); this runs
it on a tiny corpus against the shipped catalogue.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nab_corpus import write_corpus

from benchmarks.nab_score import deployed, main
from streams.core.shared.catalogue import load_catalogue


def test_every_learnt_one_channel_detector_of_the_catalogue_is_scored_once() -> None:
    found = deployed(None)
    catalogue = load_catalogue()
    learnt = [
        rp
        for rp in catalogue.risk_points
        if rp.detector.cls.input == "point" and rp.detector.kind not in ("threshold", "mahalanobis")
    ]
    assert learnt and sum(name.count(",") + 1 for name, _ in found) == len(learnt)
    for name, params in found:
        kind, ids = name.rstrip("]").split("[")
        assert all(catalogue.risk_point(i).detector.params == params for i in ids.split(","))
        assert all(catalogue.risk_point(i).detector.kind == kind for i in ids.split(","))


def test_the_catalogues_detectors_run_on_a_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(tmp_path, files=2)
    assert main(["--nab", str(tmp_path), "--detectors", "null", "--catalogue", "--jobs", "1"]) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["results"]
    assert rows[0]["detector"] == "null"
    assert len(rows) == 1 + len(deployed(None))
    assert all(r["files"] == 2 and r["params"] for r in rows[1:])
