"""One aggregator per rule kind (compound, regional / industry, comprehensive, trend).

(signal → scoped signal → window → **rule result** → compound / systemic alert.)
The contract they share is in :mod:`.base`; :func:`aggregators` binds every
compound and systemic rule of a catalogue to its kind's aggregator.
"""

from __future__ import annotations

from streams.core.alerts.aggregators.base import Aggregator
from streams.core.alerts.aggregators.compound import CompoundAggregator
from streams.core.alerts.aggregators.comprehensive import ComprehensiveAggregator
from streams.core.alerts.aggregators.places import PlacesAggregator
from streams.core.alerts.aggregators.trend import TrendAggregator
from streams.core.alerts.rules import CompoundRule, SystemicRule


def aggregator(rule: CompoundRule | SystemicRule) -> Aggregator:
    """The aggregator for one compound or systemic rule."""
    if isinstance(rule, CompoundRule):
        return CompoundAggregator(rule)
    if rule.kind in ("regional", "industry"):
        return PlacesAggregator(rule)
    if rule.kind == "comprehensive":
        return ComprehensiveAggregator(rule)
    return TrendAggregator(rule)


def aggregators(compound: list[CompoundRule], systemic: list[SystemicRule]) -> list[Aggregator]:
    """Every rule's aggregator: compound rules first, each list in catalogue order."""
    rules: list[CompoundRule | SystemicRule] = [*compound, *systemic]
    return [aggregator(r) for r in rules]
