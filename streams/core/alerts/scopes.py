"""Compound and systemic alerts: the scope engine, evaluating windows as evidence arrives.

(signal → scoped signal → **compound / systemic alert** → order.) Pure: the
caller (``assess_scopes``) owns a table of JSON values and hands the engine a
reader; the engine returns the writes, the alerts to publish and, if a signal
came too late for a window, a dead-letter detail. It composes the parts:

- :mod:`~streams.core.alerts.store`: typed windows and scope metadata, the
  event-time watermark, retention and garbage collection;
- :mod:`~streams.core.alerts.aggregators`: one pure aggregator per rule kind,
  deciding which windows a signal joins and whether a window fires;
- :mod:`~streams.core.alerts.inhibition`: which compound alerts a regional
  alert covers;
- :mod:`~streams.core.alerts.portraits`: the alert written for a fired window.

Rules are evaluated every time a window changes, never on a window-close
callback or a wall-clock timer. One alert per (rule, scope, window): the id is
derived from them, and the alert is re-published with version + 1 only when
what it says changes (its fingerprint: level, evidence, what it covers, an
inhibition). So the last version of an alert is the same whatever order its
signals arrived in (within the lateness); only the number of versions may differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas import Alert, ScopedSignal
from streams.core.alerts.aggregators import aggregators
from streams.core.alerts.aggregators.base import Aggregator, Context
from streams.core.alerts.evidence import Evidence, with_signal
from streams.core.alerts.inhibition import Inhibition
from streams.core.alerts.portraits import MAX_LINKS, Portraits, fingerprint, singles
from streams.core.alerts.single import alert_id_for
from streams.core.alerts.store import (
    SIGNALS_RULE,
    SIGNALS_WINDOW_S,
    Json,
    Published,
    Reader,
    Retention,
    ScopeMeta,
    Window,
    WindowKey,
    WindowStore,
)
from streams.core.alerts.windows import to_dt, window_start
from streams.core.shared.catalogue import Catalogue
from streams.core.shared.regions import RegionIndex

__all__ = ["SIGNALS_RULE", "ScopeEngine", "Step", "single_alert_id"]


def single_alert_id(signal_id: str) -> str:
    """The id :class:`~streams.core.alerts.single.SingleRiskRule` gives a signal's alert."""
    return alert_id_for(signal_id)


@dataclass
class Step:
    """What one scoped signal did: table writes (None deletes), alerts, a late detail."""

    writes: dict[str, Json | None] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    late: str | None = None


@dataclass(frozen=True)
class _Target:
    """A window a signal joins: the rule (``None``: the risk map's pseudo-rule), sub, size."""

    rule: Aggregator | None
    rule_id: str
    sub: str
    size_s: int


class ScopeEngine:
    """Applies the catalogue's compound and systemic rules to scoped signals."""

    def __init__(
        self, catalogue: Catalogue, regions: RegionIndex, observed_from: float | None = None
    ) -> None:
        #: when the pipeline began watching (epoch seconds), if known: rules judged against
        #: their past count silent windows since as zeros and judge no window before which
        #: no whole window was watched (a cold start's first hour is no pattern)
        self.observed_from = observed_from
        self.retention = Retention(catalogue.windows.allowed_lateness_s, catalogue.windows.keep_s)
        self.rules = aggregators(catalogue.compound_rules, catalogue.systemic_rules)
        self.by_id = {r.rule_id: r for r in self.rules}
        self.inhibition = Inhibition(self.rules)
        self.portraits = Portraits(catalogue, regions)
        #: rules judged against their own past: rule id → (windows remembered, window size,
        #: what they count in a window)
        self.histories = {
            r.rule_id: (r.history, r.window_s, r.measure) for r in self.rules if r.history
        }

    def _targets(self, scope_kind: str, ev: Evidence) -> list[_Target]:
        out = [_Target(None, SIGNALS_RULE, "", SIGNALS_WINDOW_S)]
        for r in self.rules:
            if r.listens(scope_kind) and r.accepts(ev):
                out.append(_Target(r, r.rule_id, r.sub(ev), r.window_s))
        return out

    def on_signal(self, s: ScopedSignal, read: Reader, partition: int) -> Step:
        """Add one scoped signal to its scope's windows; evaluate the windows it changed."""
        store = WindowStore(read, self.retention)
        meta = store.meta(s.scope_key, partition)
        ev = Evidence.of(s)
        touched: list[WindowKey] = []
        missed: list[str] = []
        for target in self._targets(s.scope_key.partition(":")[0], ev):
            key = WindowKey(
                s.scope_key, target.rule_id, target.sub, window_start(ev.t, target.size_s)
            )
            window = store.window(key)
            if window is None:
                if self.retention.expired(key.start + target.size_s, meta.wm):
                    missed.append(f"{key.rule}@{to_dt(key.start).isoformat()}")
                    continue
                window = Window.open(key, target.size_s, partition)
                meta = meta.opening(key)
            if ev.signal_id in window.signals:
                continue  # redelivered: the set already has it
            state = (target.rule.add if target.rule else with_signal)(window.signals, ev)
            store.put(window.holding(state))
            touched.append(key)
        step = Step(writes=store.writes)
        if missed:
            assert meta.wm is not None
            step.late = (
                f"signal {s.signal.signal_id} at {s.signal.event_time.isoformat()} is older than "
                f"what {s.scope_key} still keeps (watermark {to_dt(meta.wm).isoformat()}, "
                f"lateness {self.retention.lateness_s:g}s, keep {self.retention.keep_s:g}s): "
                f"windows {', '.join(missed)}"
            )
        if not touched and not missed:
            return step  # a redelivery: nothing changed, nothing to say
        meta = meta.observing(ev.t)
        self._evaluate(touched, store, meta, step)
        store.put_meta(s.scope_key, store.collect(meta, self.histories))
        return step

    def _evaluate(
        self, touched: list[WindowKey], store: WindowStore, meta: ScopeMeta, step: Step
    ) -> None:
        """Compound windows first, then systemic ones; then what a new cover inhibits."""
        rules = [(k, self.by_id.get(k.rule)) for k in touched]
        compounds = [k for k, r in rules if r is not None and r.kind == "compound"]
        systemics = [k for k, r in rules if r is not None and r.kind != "compound"]
        for k in compounds:
            self._publish(k, store, meta, step)
        newly_covering = []
        for k in systemics:
            was = store.window(k)
            self._publish(k, store, meta, step)
            now = store.window(k)
            assert was is not None and now is not None
            if was.pub is None and now.pub is not None and self.inhibition.covers(now.rule):
                newly_covering.append(now)
        keys = meta.keys()
        for cover in newly_covering:
            for k in self.inhibition.to_inhibit(keys, cover, store.window):
                self._publish(k, store, meta, step)

    def _publish(self, key: WindowKey, store: WindowStore, meta: ScopeMeta, step: Step) -> None:
        """Publish the window's alert if its rule fires and what it says changed."""
        window = store.window(key)
        assert window is not None
        rule = self.by_id[window.rule]
        history: list[int] = []
        if rule.history:
            seen = self.observed_from
            if seen is not None and key.start < window_start(seen, rule.window_s) + rule.window_s:
                return  # no whole window watched before this one: nothing to judge against
            history = store.history(meta, key, rule.history, rule.window_s, rule.measure, seen)
        ctx = Context(window.scope, window.sub, window.start, window.end, tuple(history))
        out = rule.result(window.signals, ctx)
        if out is None:
            return
        own = singles(out)
        inhibited_by = None
        if rule.kind == "compound":
            covers = own
            inhibited_by = self.inhibition.inhibitor(map(store.window, meta.windows), window)
        elif self.inhibition.covers(rule.rule_id):
            covers = self.inhibition.covered(meta.keys(), window, store.window) + own
        else:
            covers = own
        covers = covers[:MAX_LINKS]
        fp = fingerprint(out, covers, inhibited_by)
        prev = window.pub
        if prev is not None and prev.fp == fp:
            return
        version = 1 if prev is None else prev.v + 1
        alert = self.portraits.alert(rule, window, out, covers, inhibited_by, version)
        pub = Published(v=version, fp=fp, alert=alert.model_dump(mode="json"))
        store.put(window.publishing(pub))
        step.alerts.append(alert)
