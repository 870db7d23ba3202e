"""Inhibition: which compound alerts a regional alert covers, and whether a version is paged.

(compound / systemic alert → **paged or covered** → order.) One place for the
rule, used by both sides of it:

- the scope assessment (:mod:`streams.core.alerts.scopes`): a regional alert
  (a risk spread over a town) *covers* the compound alerts of its town whose
  windows overlap its own. It lists them in ``covers``, and each of them
  carries ``inhibited_by`` = the regional alert's id: a compound alert
  evaluated while such a regional alert exists is published inhibited, and one
  published before the regional alert appeared is re-published inhibited
  (:meth:`Inhibition.to_inhibit`);
- the dispatch decision (the ``dispatch`` agent): :func:`pages` says whether an
  alert version gets an order. An inhibited version is not paged — the regional
  alert is, for all of them; an alert paged before its cover appeared keeps
  its order (orders are one per alert id, whatever the version). Single
  alerts are never inhibited.

Alertmanager's inhibit rules do the same at notification time; here it is
decided where the windows are, so the covering alert can name what it covers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from schemas import Alert
from streams.core.alerts.aggregators.base import Aggregator
from streams.core.alerts.store import Window, WindowKey

Lookup = Callable[[WindowKey], Window | None]


def pages(alert: Alert) -> bool:
    """Whether this alert version is paged (gets a dispatch order if it has none yet)."""
    return alert.inhibited_by is None


class Inhibition:
    """Which rules cover which: regional rules cover the compound rules of their scope."""

    def __init__(self, rules: Iterable[Aggregator]) -> None:
        rules = list(rules)
        self._covering = frozenset(r.rule_id for r in rules if r.kind == "regional")
        #: compound rule id → window size, to tell overlap from a window's key alone
        self._covered = {r.rule_id: r.window_s for r in rules if r.kind == "compound"}

    def covers(self, rule_id: str) -> bool:
        """Whether a published alert of this rule covers compound alerts."""
        return rule_id in self._covering

    def is_covered(self, rule_id: str) -> bool:
        """Whether alerts of this rule can be covered (and so inhibited)."""
        return rule_id in self._covered

    def overlapping(self, keys: Iterable[WindowKey], cover: Window) -> list[WindowKey]:
        """The compound windows among ``keys`` whose span overlaps the cover's."""
        out = []
        for k in keys:
            size = self._covered.get(k.rule)
            if size is not None and k.start < cover.end and cover.start < k.start + size:
                out.append(k)
        return out

    def inhibitor(self, windows: Iterable[Window | None], target: Window) -> str | None:
        """The id of the first published covering alert (in ``windows``' order) whose
        window overlaps ``target``'s; ``None`` if nothing covers it."""
        for other in windows:
            if (
                other is not None
                and other.pub is not None
                and self.covers(other.rule)
                and other.overlaps(target.start, target.end)
            ):
                return other.pub.alert_id
        return None

    def covered(self, keys: Iterable[WindowKey], cover: Window, window: Lookup) -> list[str]:
        """Ids of the published compound alerts ``cover`` covers, sorted."""
        ids = []
        for k in self.overlapping(keys, cover):
            other = window(k)
            if other is not None and other.pub is not None:
                ids.append(other.pub.alert_id)
        return sorted(ids)

    def to_inhibit(
        self, keys: Iterable[WindowKey], cover: Window, window: Lookup
    ) -> list[WindowKey]:
        """The compound windows to re-publish now that ``cover`` is published: those
        overlapping it whose alert went out before any cover did."""
        out = []
        for k in self.overlapping(keys, cover):
            other = window(k)
            if other is not None and other.pub is not None and other.pub.inhibited_by is None:
                out.append(k)
        return out
