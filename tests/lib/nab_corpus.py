"""Test support: a tiny NAB-style corpus (files, labels), one spike per file in its window."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

T0 = datetime(2020, 1, 1)


def write_corpus(root: Path, files: int) -> None:
    labels: dict[str, list[list[str]]] = {}
    for f in range(files):
        path = root / "data" / "demo" / f"s{f}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["timestamp,value"]
        for i in range(900):
            t = T0 + timedelta(minutes=5 * i)
            v = 10.0 + (i % 12) + (60.0 if 700 <= i < 705 else 0.0)
            lines.append(f"{t:%Y-%m-%d %H:%M:%S},{v}")
        path.write_text("\n".join(lines) + "\n")
        start, end = T0 + timedelta(minutes=5 * 690), T0 + timedelta(minutes=5 * 720)
        labels[f"demo/s{f}.csv"] = [
            [f"{start:%Y-%m-%d %H:%M:%S}.000000", f"{end:%Y-%m-%d %H:%M:%S}.000000"]
        ]
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps(labels))
