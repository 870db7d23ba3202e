"""Rules judged against their past when the pipeline's start of observation is known.

A worker that knows when it began watching (``YUJING_OBSERVED_FROM``) judges no
window before which no whole window was watched (a cold start's first hour is no
pattern), and counts a scope's silent windows since then as zeros (a quiet town
that suddenly has signals in many communities is a pattern).
"""

from __future__ import annotations

from datetime import timedelta

from scope_scenario import T0, Run, signal

from streams.core.alerts.scopes import ScopeEngine

CELLS = [f"cell.wuchang.wuchang-{i}.01" for i in (1, 2, 3, 4)]


def town_burst(minutes: float) -> list:
    """Four communities of Wuchang with a waterlogged underpass within minutes."""
    return [signal("underpass_waterlogging", c, minutes + i) for i, c in enumerate(CELLS)]


def run_from(observed_from: float | None) -> Run:
    run = Run()
    run.engine = ScopeEngine(run.catalogue, run.index, observed_from)
    return run


def town_alerts(run: Run) -> list:
    return [a for a in run.latest().values() if a.rule_id == "town_wide_risk"]


def test_a_burst_in_the_first_watched_hour_is_not_judged() -> None:
    start = T0.timestamp()
    assert town_alerts(run_from(start).feed(*town_burst(5))) == []
    # unknown start: the scope's first window is judged by the floor alone, as before
    assert len(town_alerts(run_from(None).feed(*town_burst(5)))) == 1


def test_a_quiet_watched_town_that_bursts_is_a_pattern() -> None:
    """Six silent watched hours are six zeros, not no past at all."""
    start = (T0 - timedelta(hours=6)).timestamp()
    (alert,) = town_alerts(run_from(start).feed(*town_burst(5)))
    assert alert.portrait is not None and len(alert.portrait.members) == 4
    assert "against a mean of 0.00" in alert.summary
