"""The window store: typed keys and contents of the ``scope-windows`` table, watermark, GC.

(signal → scoped signal → **window** → compound / systemic alert.) Pure: the
caller (the ``assess_scopes`` agent) owns a changelog-backed table of JSON
values; :class:`WindowStore` reads it through a reader, parses each entry once
into frozen models and collects the writes (``None`` deletes) for the caller
to apply. Everything a scope's rules need lives in the one partition its
scope key lives in:

- ``meta|<scope key>`` → :class:`ScopeMeta`: the scope's event-time watermark,
  the earliest event time seen, its open windows and the remembered signal
  counts of closed windows for rules that judge against their own history;
- ``win|<scope key>|<rule>|<sub>|<start>`` (:class:`WindowKey`) →
  :class:`Window`: one tumbling event-time window of one rule, ``sub`` being the
  place (compound) or module (trend); its evidence by signal id and the alert
  last published for it.

Time is event time only. The watermark is the second newest event time the
scope has accepted (one outlier moves nothing:
:func:`~streams.core.alerts.windows.advance`); it is stored data, recovered with
the table. A window is kept while
``end + allowed lateness + keep`` is after the watermark (:class:`Retention`):
a signal for a window already collected is late (the caller dead-letters it),
and :meth:`WindowStore.collect` drops the windows the watermark has left
behind. Nothing here reads a wall clock or waits for a window-close callback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from streams.core.alerts.evidence import Evidence, Signals
from streams.core.alerts.windows import advance, window_start

Json = dict[str, Any]
Reader = Callable[[str], Json | None]
#: What a rule counts in a window (its signals, or the distinct places behind them).
Measure = Callable[[Signals], int]

#: The pseudo-rule every scope keeps, so the risk map sees every signal.
SIGNALS_RULE = "_signals"
SIGNALS_WINDOW_S = 3600

_FROZEN = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


@dataclass(frozen=True, order=True)
class WindowKey:
    """Which window: scope key, rule, sub-key (place, module or ``""``), start (Unix s)."""

    scope: str
    rule: str
    sub: str
    start: int

    def encode(self) -> str:
        """The table key.

        >>> WindowKey("town:wuchang", "town_wide_risk", "", 3600).encode()
        'win|town:wuchang|town_wide_risk||3600'
        >>> WindowKey.parse(_) == WindowKey("town:wuchang", "town_wide_risk", "", 3600)
        True
        """
        return f"win|{self.scope}|{self.rule}|{self.sub}|{self.start}"

    @classmethod
    def parse(cls, text: str) -> WindowKey:
        tag, scope, rule, rest = text.split("|", 3)
        sub, _, start = rest.rpartition("|")
        if tag != "win":
            raise ValueError(f"not a window key: {text!r}")
        return cls(scope, rule, sub, int(start))


def meta_key(scope_key: str) -> str:
    return f"meta|{scope_key}"


def win_key(scope_key: str, rule_id: str, sub: str, start: int) -> str:
    return WindowKey(scope_key, rule_id, sub, start).encode()


class Published(BaseModel):
    """The alert last published for a window, its version and its fingerprint."""

    model_config = _FROZEN

    v: int = Field(ge=1)
    fp: str
    #: The alert as published (JSON), served as is by the risk map.
    alert: dict[str, Any]

    @property
    def alert_id(self) -> str:
        return str(self.alert["alert_id"])

    @property
    def inhibited_by(self) -> str | None:
        got = self.alert.get("inhibited_by")
        return None if got is None else str(got)


class Window(BaseModel):
    """One window of one rule in one scope: its evidence and its published alert."""

    model_config = _FROZEN

    rule: str
    scope: str
    sub: str
    start: int
    end: int
    signals: dict[str, Evidence] = Field(default_factory=dict)
    pub: Published | None = None
    #: The partition that created it: a worker's map shows only the partitions it holds.
    p: int

    @classmethod
    def open(cls, key: WindowKey, size_s: int, partition: int) -> Window:
        return cls(
            rule=key.rule,
            scope=key.scope,
            sub=key.sub,
            start=key.start,
            end=key.start + size_s,
            p=partition,
        )

    @property
    def key(self) -> WindowKey:
        return WindowKey(self.scope, self.rule, self.sub, self.start)

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end

    def holding(self, signals: Signals) -> Window:
        return self.model_copy(update={"signals": dict(signals)})

    def publishing(self, pub: Published) -> Window:
        return self.model_copy(update={"pub": pub})


class ScopeMeta(BaseModel):
    """A scope's clock and index: watermark, earliest event, open windows, closed counts."""

    model_config = _FROZEN

    wm: float | None = None
    #: the newest event time seen; ``wm`` is the second newest (one outlier moves nothing)
    head: float | None = None
    since: float | None = None
    #: Table keys of the open windows, sorted (the order rules and inhibition visit them).
    windows: list[str] = Field(default_factory=list)
    #: ``<rule>|<sub>`` → window start → the rule's measure, for rules with a history.
    hist: dict[str, dict[str, int]] = Field(default_factory=dict)
    p: int

    def keys(self) -> list[WindowKey]:
        return [WindowKey.parse(k) for k in self.windows]

    def opening(self, key: WindowKey) -> ScopeMeta:
        return self.model_copy(update={"windows": sorted({*self.windows, key.encode()})})

    def observing(self, t: float) -> ScopeMeta:
        """The watermark and earliest time after accepting evidence at event time ``t``."""
        head, wm = advance(self.head, self.wm, t)
        return self.model_copy(
            update={
                "wm": wm,
                "head": head,
                "since": t if self.since is None else min(self.since, t),
            }
        )


@dataclass(frozen=True)
class Retention:
    """How long a window stays after its end, in event time: lateness, then ``keep_s``."""

    lateness_s: float
    keep_s: float

    def expired(self, end: float, watermark: float | None) -> bool:
        """Whether a window ending at ``end`` is gone once the watermark is ``watermark``.

        >>> Retention(1800, 3600).expired(3600, 9000), Retention(1800, 3600).expired(3600, 9001)
        (True, True)
        >>> Retention(1800, 3600).expired(3600, 8999), Retention(1800, 3600).expired(3600, None)
        (False, False)
        """
        return watermark is not None and end + self.lateness_s + self.keep_s <= watermark


@dataclass
class WindowStore:
    """One step's view of the table: each entry read and parsed once; writes collected."""

    read: Reader
    retention: Retention
    writes: dict[str, Json | None] = field(default_factory=dict)
    _windows: dict[str, Window | None] = field(default_factory=dict)
    _metas: dict[str, ScopeMeta] = field(default_factory=dict)

    def meta(self, scope_key: str, partition: int) -> ScopeMeta:
        k = meta_key(scope_key)
        if k not in self._metas:
            raw = self.read(k)
            self._metas[k] = (
                ScopeMeta(p=partition) if raw is None else ScopeMeta.model_validate(raw)
            )
        return self._metas[k]

    def put_meta(self, scope_key: str, meta: ScopeMeta) -> None:
        k = meta_key(scope_key)
        self._metas[k] = meta
        self.writes[k] = meta.model_dump(mode="json")

    def window(self, key: WindowKey | str) -> Window | None:
        k = key if isinstance(key, str) else key.encode()
        if k not in self._windows:
            raw = self.read(k)
            self._windows[k] = None if raw is None else Window.model_validate(raw)
        return self._windows[k]

    def put(self, window: Window) -> None:
        k = window.key.encode()
        self._windows[k] = window
        self.writes[k] = window.model_dump(mode="json")

    def drop(self, key: str) -> None:
        self._windows[key] = None
        self.writes[key] = None

    def history(
        self,
        meta: ScopeMeta,
        key: WindowKey,
        length: int,
        size_s: int,
        measure: Measure = len,
        observed_from: float | None = None,
    ) -> list[int]:
        """The ``measure`` (default: the signal count) of up to ``length`` windows before
        ``key``, oldest first.

        From the window itself while it is open, else from the measure remembered
        when it was collected (0 for a window that never held a signal). It
        reaches back no further than the scope's earliest event: before that,
        the scope has no history, not a history of zeros; unless the pipeline's
        start of observation is known (``observed_from``): from then on a window
        that never held a signal was watched and silent, a true zero.
        """
        since = meta.since if observed_from is None else observed_from
        if since is None:
            return []
        begin = max(window_start(min(since, key.start), size_s), key.start - length * size_s)
        stored = meta.hist.get(f"{key.rule}|{key.sub}", {})
        out = []
        for u in range(begin, key.start, size_s):
            w = self.window(WindowKey(key.scope, key.rule, key.sub, u))
            out.append(measure(w.signals) if w is not None else int(stored.get(str(u), 0)))
        return out

    def collect(
        self, meta: ScopeMeta, histories: Mapping[str, tuple[int, int, Measure]]
    ) -> ScopeMeta:
        """Drop the windows the watermark has left behind (by event time).

        ``histories``: rule id → (windows remembered, window size, measure) for rules
        that judge against their own past; a collected window of such a rule leaves
        its measure in the scope's meta, within that horizon.
        """
        keep: list[str] = []
        hist = dict(meta.hist)
        for k in meta.windows:
            w = self.window(k)
            if w is None:
                continue
            if not self.retention.expired(w.end, meta.wm):
                keep.append(k)
                continue
            if w.rule in histories:
                length, size_s, measure = histories[w.rule]
                hk = f"{w.rule}|{w.sub}"
                counts = {**hist.get(hk, {}), str(w.start): measure(w.signals)}
                horizon = w.start - length * size_s
                hist[hk] = {u: n for u, n in counts.items() if int(u) > horizon}
            self.drop(k)
        return meta.model_copy(update={"windows": keep, "hist": hist})
