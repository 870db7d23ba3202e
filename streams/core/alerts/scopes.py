"""Compound and systemic alerts: windowed aggregation per scope, evaluated as evidence arrives.

(signal → scoped signal → **compound / systemic alert** → order.) Pure: the
caller (``assess_scopes``) owns a table of JSON values and hands this engine a
reader; the engine returns the writes, the alerts to publish and, if a signal
came too late for a window, a dead-letter detail.

State per scope key (``town:<id>``, ``industry:<id>``, ``district:<id>``,
``place:<id>``), all of it in the one partition that key lives in:

- ``meta|<scope key>``: the scope's event-time watermark, the earliest event
  time seen, its open windows, and (trend) past windows' counts;
- ``win|<scope key>|<rule>|<sub>|<start>``: one window of one rule, ``sub``
  being the place (compound) or module (trend): the signals in it, keyed by
  signal id, and the alert published for it (version and fingerprint).

Rules are evaluated every time a window changes, never on a window-close
callback or a wall-clock timer. A window is garbage-collected when the scope's
watermark (stored, recovered with the table) passes its end + allowed lateness
+ ``keep_s``. One alert per (rule, scope, window): the id is derived from
them, and the alert is re-published with version + 1 only when what it says
changes: its level, the signals behind it (evidence grows), what it covers, or
an inhibition. So the last version of an alert is the same whatever order its
signals arrived in (within the lateness); only the number of versions may differ.

Inhibition: a regional alert covers the compound alerts of its town in
overlapping windows. A compound alert evaluated while such a regional alert
exists carries ``inhibited_by``; one published before it is re-published with
``inhibited_by`` set. The dispatch agent does not page inhibited alerts (one
already paged keeps its order). Single alerts always page.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas import Alert, AlertKind, Contribution, Portrait, ScopedSignal, ScopeKind
from streams.core.alerts.rules import LEVELS, CompoundRule, SystemicRule
from streams.core.alerts.single import RULE_ID as SINGLE_RULE
from streams.core.alerts.windows import epoch, to_dt, window_start
from streams.core.shared.catalogue import Catalogue
from streams.core.shared.ids import stable_id
from streams.core.shared.regions import RegionIndex
from streams.core.signals.detectors.rate import poisson_sf

#: The pseudo-rule every scope key keeps, so the risk map sees every signal.
SIGNALS_RULE = "_signals"
SIGNALS_WINDOW_S = 3600
MAX_CONTRIBUTIONS = 64

Reader = Callable[[str], dict[str, Any] | None]
Json = dict[str, Any]


def meta_key(scope_key: str) -> str:
    return f"meta|{scope_key}"


def win_key(scope_key: str, rule_id: str, sub: str, start: int) -> str:
    return f"win|{scope_key}|{rule_id}|{sub}|{start}"


def single_alert_id(signal_id: str) -> str:
    """The id :class:`~streams.core.alerts.single.SingleRiskRule` gives a signal's alert."""
    return stable_id("alert", SINGLE_RULE, signal_id)


@dataclass
class Step:
    """What one scoped signal did: table writes (None deletes), alerts, a late detail."""

    writes: dict[str, Json | None] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    late: str | None = None


@dataclass
class Outcome:
    level: str
    score: float
    threshold: float
    members: dict[str, int]
    contribs: list[Json]
    baseline: float | None = None
    why: str = ""


def _sev_rank(c: Json) -> int:
    return LEVELS.index(c["sev"])


class ScopeEngine:
    """Applies the catalogue's compound and systemic rules to scoped signals."""

    def __init__(self, catalogue: Catalogue, regions: RegionIndex) -> None:
        self.regions = regions
        self.lateness = catalogue.windows.allowed_lateness_s
        self.keep = catalogue.windows.keep_s
        self.compound = {r.id: r for r in catalogue.compound_rules}
        self.systemic = {r.id: r for r in catalogue.systemic_rules}
        self.rp_names = {rp.id: rp.name for rp in catalogue.risk_points}

    # -- targets -------------------------------------------------------------------------

    def _targets(self, kind: str, s: ScopedSignal) -> list[tuple[str, str, int]]:
        sig = s.signal
        out: list[tuple[str, str, int]] = [(SIGNALS_RULE, "", SIGNALS_WINDOW_S)]
        if kind in ("town", "place"):
            for r in self.compound.values():
                if any(_matches(m, sig.module, sig.risk_point) for m in r.members):
                    out.append((r.id, sig.place_id, r.window_s))
        for sr in self.systemic.values():
            if sr.modules and sig.module not in sr.modules:
                continue
            if (
                (sr.kind == "regional" and kind == "town")
                or (sr.kind == "industry" and kind == "industry")
                or (sr.kind == "comprehensive" and kind == "district")
            ):
                out.append((sr.id, "", sr.window_s))
            elif sr.kind == "trend" and kind == "district":
                out.append((sr.id, sig.module, sr.window_s))
        return out

    @staticmethod
    def contribution(s: ScopedSignal) -> Json:
        sig = s.signal
        return {
            "id": sig.signal_id,
            "rp": sig.risk_point,
            "mod": sig.module,
            "place": sig.place_id,
            "cell": s.grid_cell,
            "comm": s.community,
            "town": s.town,
            "dist": s.district,
            "site": s.site,
            "ind": s.industry,
            "sev": sig.severity,
            "em": sig.emergency,
            "score": sig.score,
            "x": dict(sig.indicators),
            "src": list(sig.source_event_ids),
            "key": sig.source_key,
            "t": epoch(sig.event_time),
        }

    # -- the step ------------------------------------------------------------------------

    def on_signal(self, s: ScopedSignal, read: Reader, partition: int) -> Step:
        kind = s.scope_key.partition(":")[0]
        step = Step()
        cache: dict[str, Json | None] = {}

        def get(k: str) -> Json | None:
            if k not in cache:
                v = read(k)
                cache[k] = json.loads(json.dumps(v)) if v is not None else None  # own copy
            return cache[k]

        def put(k: str, v: Json | None) -> None:
            cache[k] = v
            step.writes[k] = v

        mk = meta_key(s.scope_key)
        meta = get(mk) or {"wm": None, "since": None, "windows": [], "hist": {}, "p": partition}
        t = epoch(s.signal.event_time)
        contrib = self.contribution(s)
        touched: list[str] = []
        missed: list[str] = []
        for rule_id, sub, size in self._targets(kind, s):
            start = window_start(t, size)
            k = win_key(s.scope_key, rule_id, sub, start)
            agg = get(k)
            if agg is None:
                if (
                    meta["wm"] is not None
                    and start + size + self.lateness + self.keep <= meta["wm"]
                ):
                    missed.append(f"{rule_id}@{to_dt(start).isoformat()}")
                    continue
                agg = {
                    "rule": rule_id,
                    "scope": s.scope_key,
                    "sub": sub,
                    "start": start,
                    "end": start + size,
                    "signals": {},
                    "pub": None,
                    "p": partition,
                }
                meta["windows"] = sorted({*meta["windows"], k})
            if contrib["id"] in agg["signals"]:
                continue  # redelivered: the set already has it
            agg["signals"][contrib["id"]] = contrib
            put(k, agg)
            touched.append(k)
        if missed:
            step.late = (
                f"signal {s.signal.signal_id} at {s.signal.event_time.isoformat()} is older than "
                f"what {s.scope_key} still keeps (watermark {to_dt(meta['wm']).isoformat()}, "
                f"lateness {self.lateness:g}s, keep {self.keep:g}s): windows {', '.join(missed)}"
            )
        if not touched and not missed:
            return step  # a redelivery: nothing changed, nothing to say
        meta["wm"] = t if meta["wm"] is None else max(meta["wm"], t)
        meta["since"] = t if meta["since"] is None else min(meta["since"], t)

        compounds = [k for k in touched if get(k)["rule"] in self.compound]  # type: ignore[index]
        systemics = [k for k in touched if get(k)["rule"] in self.systemic]  # type: ignore[index]
        for k in compounds:
            self._publish(k, get, put, step, meta)
        newly_covering = []
        for k in systemics:
            was = get(k)["pub"]  # type: ignore[index]
            self._publish(k, get, put, step, meta)
            agg = get(k)
            assert agg is not None
            if was is None and agg["pub"] is not None and self._is_regional(agg):
                newly_covering.append(agg)
        for cover in newly_covering:
            for k in self._overlapping_compounds(meta, cover):
                agg = get(k)
                if agg is not None and agg["pub"] and not agg["pub"]["alert"].get("inhibited_by"):
                    self._publish(k, get, put, step, meta)
        self._collect(meta, get, put)
        put(mk, meta)
        return step

    # -- evaluation ----------------------------------------------------------------------

    def _is_regional(self, agg: Json) -> bool:
        r = self.systemic.get(agg["rule"])
        return r is not None and r.kind == "regional"

    def _overlapping_compounds(self, meta: Json, cover: Json) -> list[str]:
        out = []
        for k in meta["windows"]:
            _, _, rule_id, _, start = k.split("|", 4)
            r = self.compound.get(rule_id)
            if r is None:
                continue
            s = int(start)
            if s < cover["end"] and cover["start"] < s + r.window_s:
                out.append(k)
        return out

    def _inhibitor(self, meta: Json, agg: Json, get: Reader) -> str | None:
        for k in meta["windows"]:
            other = get(k)
            if (
                other is not None
                and other["pub"]
                and self._is_regional(other)
                and other["start"] < agg["end"]
                and agg["start"] < other["end"]
            ):
                return str(other["pub"]["alert"]["alert_id"])
        return None

    def _covered_compounds(self, meta: Json, agg: Json, get: Reader) -> list[str]:
        ids = []
        for k in self._overlapping_compounds(meta, agg):
            other = get(k)
            if other is not None and other["pub"]:
                ids.append(str(other["pub"]["alert"]["alert_id"]))
        return sorted(ids)

    def _history(self, meta: Json, agg: Json, rule: SystemicRule, get: Reader) -> list[int]:
        size = rule.window_s
        if meta["since"] is None:
            return []
        begin = max(
            window_start(min(meta["since"], agg["start"]), size), agg["start"] - rule.history * size
        )
        stored = meta["hist"].get(f"{rule.id}|{agg['sub']}", {})
        out = []
        for u in range(begin, agg["start"], size):
            w = get(win_key(agg["scope"], rule.id, agg["sub"], u))
            out.append(len(w["signals"]) if w is not None else int(stored.get(str(u), 0)))
        return out

    def _evaluate(self, agg: Json, meta: Json, get: Reader) -> Outcome | None:
        sigs = sorted(agg["signals"].values(), key=lambda c: c["id"])
        rule_id = agg["rule"]
        if rule_id in self.compound:
            return _eval_compound(self.compound[rule_id], sigs)
        sr = self.systemic.get(rule_id)
        if sr is None:
            return None
        if sr.kind in ("regional", "industry"):
            field_ = "comm" if sr.kind == "regional" else "site"
            members = Counter(c[field_] for c in sigs if c[field_])
            if len(members) < sr.min_places:
                return None
            for c in sigs:
                c["w"] = 1.0
            what = "communities" if sr.kind == "regional" else "sites"
            return Outcome(
                sr.severity,
                float(len(members)),
                float(sr.min_places),
                dict(sorted(members.items())),
                sigs,
                why=f"{len(members)} {what} with signals (threshold {sr.min_places})",
            )
        if sr.kind == "comprehensive":
            modules = Counter(c["mod"] for c in sigs)
            for c in sigs:
                c["w"] = float(sr.severity_weights.get(c["sev"], 0.0))
            index = sum(c["w"] for c in sigs)
            band = sr.band(index)
            if len(modules) < sr.min_modules or band is None:
                return None
            return Outcome(
                band[0],
                index,
                band[1],
                dict(sorted(modules.items())),
                sigs,
                why=f"risk index {index:g} over {len(modules)} modules reaches the "
                f"{band[0]} band ({band[1]:g})",
            )
        # trend
        hist = self._history(meta, agg, sr, get)
        count = len(sigs)
        if len(hist) < sr.min_history or count < sr.min_count:
            return None
        lam = sum(hist) / len(hist)
        tail = poisson_sf(count, lam)
        if tail > sr.p_value:
            return None
        for c in sigs:
            c["w"] = 1.0
        return Outcome(
            sr.severity,
            float(count),
            float(sr.min_count),
            {agg["sub"]: count},
            sigs,
            baseline=lam,
            why=f"{count} {agg['sub']} signals in the window against a mean of {lam:.2f} "
            f"over the past {len(hist)} windows (tail probability {tail:.2g} <= {sr.p_value:g})",
        )

    def _publish(
        self, k: str, get: Reader, put: Callable[[str, Json | None], None], step: Step, meta: Json
    ) -> None:
        agg = get(k)
        assert agg is not None
        out = self._evaluate(agg, meta, get)
        if out is None:
            return
        rule_id = agg["rule"]
        kind, _, scope_id = agg["scope"].partition(":")
        singles = sorted(single_alert_id(c["id"]) for c in out.contribs)
        inhibited_by = None
        if rule_id in self.compound:
            scope_kind, scope = ScopeKind.PLACE, agg["sub"]
            covers = singles
            inhibited_by = self._inhibitor(meta, agg, get)
            name = self.compound[rule_id].name
            emergency = self.compound[rule_id].emergency
            rule_kind = "compound"
        else:
            sr = self.systemic[rule_id]
            scope_kind, scope = ScopeKind(kind), scope_id
            covers = (
                self._covered_compounds(meta, agg, get) if sr.kind == "regional" else []
            ) + singles
            name, emergency, rule_kind = sr.name, sr.emergency, sr.kind
        covers = covers[:256]
        fp = json.dumps(
            [
                out.level,
                sorted(out.members),
                stable_id("set", *sorted(c["id"] for c in out.contribs)),
                [c for c in covers if c not in singles],
                inhibited_by,
            ]
        )
        prev = agg["pub"]
        if prev is not None and prev["fp"] == fp:
            return
        version = 1 if prev is None else int(prev["v"]) + 1
        alert = self._alert(
            agg, out, rule_kind, name, emergency, scope_kind, scope, covers, inhibited_by, version
        )
        agg["pub"] = {"v": version, "fp": fp, "alert": alert.model_dump(mode="json")}
        put(k, agg)
        step.alerts.append(alert)

    def _alert(
        self,
        agg: Json,
        out: Outcome,
        rule_kind: str,
        name: str,
        emergency: bool,
        scope_kind: ScopeKind,
        scope: str,
        covers: list[str],
        inhibited_by: str | None,
        version: int,
    ) -> Alert:
        sigs = out.contribs
        ranked = sorted(sigs, key=lambda c: (-_sev_rank(c), -c.get("w", 0.0), c["t"], c["id"]))
        modules = Counter(c["mod"] for c in sigs)
        dominant = sorted(modules.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        rule_id = agg["rule"]
        start, end = to_dt(agg["start"]), to_dt(agg["end"])
        alert_id = stable_id("alert", rule_id, scope_kind.value, scope, agg["sub"], agg["start"])
        where = self._where(scope_kind, scope)
        top = "; ".join(
            f"{self.rp_names.get(c['rp'], c['rp'])} at {c['place']} ({c['sev']}, "
            + ", ".join(f"{k}={v:.4g}" for k, v in list(c["x"].items())[:3])
            + f"; events {', '.join(c['src'][:3])})"
            for c in ranked[:4]
        )
        members = ", ".join(f"{k} x{v}" for k, v in out.members.items())
        summary = (
            f"[{out.level.upper()}] {name} — {where}, {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC: "
            f"{len(sigs)} signals ({members}); {out.why}. Most severe: {top}"
        )
        if inhibited_by:
            summary += f". Covered by {inhibited_by}: not paged separately"
        labels = {
            "kind": "compound" if rule_kind == "compound" else "systemic",
            "rule": rule_id,
            "level": out.level,
            "emergency": str(emergency).lower(),
            "scope": scope[:256],
        }
        if rule_kind == "compound":
            labels["module"] = dominant
            labels["place"] = scope
        return Alert(
            alert_id=alert_id,
            version=version,
            kind=AlertKind.COMPOUND if rule_kind == "compound" else AlertKind.SYSTEMIC,
            rule_id=rule_id,
            level=out.level,  # type: ignore[arg-type]
            emergency=emergency,
            auto_disposable=False,
            scope=scope,
            module=dominant,
            risk_points=sorted({c["rp"] for c in sigs})[:64],
            labels=labels,
            signal_ids=sorted(c["id"] for c in sigs)[:256],
            source_keys=sorted({c["key"] for c in sigs})[:256],
            summary=summary if len(summary) <= 2000 else summary[:1999] + "…",
            event_time=to_dt(max(c["t"] for c in sigs)),
            scope_kind=scope_kind,
            window_start=start,
            window_end=end,
            portrait=Portrait(
                rule_kind=rule_kind,  # type: ignore[arg-type]
                score=out.score,
                threshold=out.threshold,
                members=out.members,
                signal_count=len(sigs),
                baseline=out.baseline,
                contributions=[_contribution(c) for c in ranked[:MAX_CONTRIBUTIONS]],
            ),
            covers=covers,
            inhibited_by=inhibited_by,
        )

    def _where(self, kind: ScopeKind, scope: str) -> str:
        if kind in (ScopeKind.PLACE, ScopeKind.GRID_CELL):
            chain = self.regions.ancestors(scope)
            return f"{kind.value} {' < '.join(chain)}" if len(chain) > 1 else f"place {scope}"
        return f"{kind.value} {scope}"

    # -- garbage collection --------------------------------------------------------------

    def _collect(self, meta: Json, get: Reader, put: Callable[[str, Json | None], None]) -> None:
        """Drop windows the scope's watermark has left behind, by event time."""
        wm = meta["wm"]
        keep = []
        for k in meta["windows"]:
            agg = get(k)
            if agg is None:
                continue
            if agg["end"] + self.lateness + self.keep <= wm:
                sr = self.systemic.get(agg["rule"])
                if sr is not None and sr.kind == "trend":
                    hk = f"{sr.id}|{agg['sub']}"
                    hist = dict(meta["hist"].get(hk, {}))
                    hist[str(agg["start"])] = len(agg["signals"])
                    horizon = agg["start"] - sr.history * sr.window_s
                    meta["hist"][hk] = {u: n for u, n in hist.items() if int(u) > horizon}
                put(k, None)
            else:
                keep.append(k)
        meta["windows"] = keep


def _matches(m: Any, module: str, risk_point: str) -> bool:
    return bool((m.module and m.module == module) or (m.risk_point and m.risk_point == risk_point))


def _eval_compound(rule: CompoundRule, sigs: list[Json]) -> Outcome | None:
    hits: set[int] = set()
    matched = []
    for c in sigs:
        mine = [i for i, m in enumerate(rule.members) if _matches(m, c["mod"], c["rp"])]
        if mine:
            hits.update(mine)
            c["w"] = max(rule.members[i].weight for i in mine)
            matched.append(c)
    modules = Counter(c["mod"] for c in matched)
    score = sum(rule.members[i].weight for i in hits)
    if len(modules) < rule.min_modules or score < rule.min_score:
        return None
    return Outcome(
        rule.severity,
        score,
        rule.min_score,
        dict(sorted(modules.items())),
        matched,
        why=f"{len(modules)} modules co-occur (at least {rule.min_modules}), weight {score:g}",
    )


def _contribution(c: Json) -> Contribution:
    return Contribution(
        signal_id=c["id"],
        risk_point=c["rp"],
        module=c["mod"],
        place_id=c["place"],
        severity=c["sev"],
        score=float(c["score"]),
        weight=float(c.get("w", 1.0)),
        indicators={k: float(v) for k, v in list(c["x"].items())[:32]},
        source_event_ids=list(c["src"])[:64],
        event_time=to_dt(c["t"]),
    )


def published(entries: Iterable[tuple[str, Json]]) -> list[Json]:
    """The latest published alert of every window among table entries."""
    return [v["pub"]["alert"] for k, v in entries if k.startswith("win|") and v and v.get("pub")]
