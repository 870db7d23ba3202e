"""How big an injected pattern must be for the systemic rules to tell it from chance.

(simulated **incidents** → signal → systemic alert.) A group incident of the
district day (:mod:`streams.tools.simulate.mix`) is sized so that its rule,
judging the window against the scope's past the way the worker does
(:func:`streams.core.alerts.aggregators.base.against_history`; a trend: its
Poisson tail), finds it improbable by a margin: what chance alone makes likely
in one window is not a pattern, and an injected "pattern" that chance could
have made would measure nothing. Pure.
"""

from __future__ import annotations

from streams.core.alerts.aggregators.base import predictive_sf
from streams.core.signals.detectors.rate import poisson_sf


def pattern_size(rule: object, chance: float, kind: str, past: int = 6) -> int:
    """Places (or signals) a group needs to be a pattern for ``rule``: its floor at least
    and, judged against history, a tail under a tenth of its ``p_value`` in the law the
    worker judges with, after ``past`` windows at ``chance`` an hour.

    >>> from streams.core.alerts.rules import SystemicRule
    >>> r = SystemicRule(id="r", name="r", kind="regional", window_s=3600, min_places=3)
    >>> pattern_size(r, 0.5, "regional")
    3
    >>> h = r.model_copy(update={"against_history": True})
    >>> pattern_size(h, 0.5, "regional"), pattern_size(h, 3.0, "regional")
    (7, 14)
    >>> pattern_size(h, 3.0, "regional", past=24)  # a longer past: a narrower law
    13
    """
    floor = getattr(rule, "min_places", 2) if kind in ("regional", "industry") else 2
    if kind == "trend":
        floor = getattr(rule, "min_count", 3)
    against = kind == "trend" or getattr(rule, "against_history", False)
    if not against:
        return floor
    lam = max(chance * getattr(rule, "window_s", 3600) / 3600, 0.05)
    p = getattr(rule, "p_value", 0.001) / 10

    def tail(n: int) -> float:  # trend: a Poisson at the mean; others: the predictive law
        return poisson_sf(n, lam) if kind == "trend" else predictive_sf(n, lam * past, past)

    n = floor
    while tail(n) > p:
        n += 1
    return n


__all__ = ["pattern_size"]
