"""The district day's detection figures without a broker (benchmarks/day_detection.py).

A whole day takes about a minute (``python -m benchmarks.day_detection``); here a
deterministic twentieth of the sensors, the configured catalogue measured twice on
the same day.
"""

from __future__ import annotations

import json

import pytest

from benchmarks.day_detection import main
from streams.runtime.settings import Settings


def test_a_share_of_the_day_is_measured_the_same_way_twice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    catalogue = str(Settings.from_env().catalogue)
    assert (
        main(["--sensors-share", "0.05", "--catalogue", catalogue, "--catalogue", catalogue]) == 0
    )
    out = capsys.readouterr().out
    line = json.loads(out.strip().splitlines()[-1])
    first, second = line["catalogues"]
    assert first == second  # one day, one core: the same figures
    total = first["total"]
    assert line["sensors"] > 0 and total["sensors"] >= line["sensors"]
    assert total["incidents"] > 0, "the share held no incident: nothing was measured"
    assert 0 < total["seen"] <= total["incidents"]
    assert 0 <= total["outside_during_faults"] <= total["signals_outside"]
    assert "gas_use_unusual" in first["risk_points"]  # a learnt one-channel point
    assert "catalogue:" in out and "% seen" in out


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(SystemExit):
        main(["--sensors-share", "0"])
