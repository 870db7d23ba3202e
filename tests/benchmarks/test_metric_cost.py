"""The metric-cost benchmark runs both pairs on the same calls (benchmarks/metric_cost.py).

No timing is asserted: the figures belong to the benchmark's own run."""

from __future__ import annotations

import json

import pytest

from benchmarks.metric_cost import main


def test_both_pairs_are_measured(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--calls", "2000", "--repeat", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) == {"histogram_observe_us", "sensor_per_message_us"}
    assert set(result["histogram_observe_us"]) == {"prometheus_client", "counting"}
    assert set(result["sensor_per_message_us"]) == {"faust_prometheus", "counting"}
    assert all(v > 0 for pair in result.values() for v in pair.values())
