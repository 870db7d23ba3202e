"""A broker-free run of locate_signals + assess_scopes over signals, for core tests.

The places are those of the small test district (``tests/lib/small_district.yaml``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from districts import small_regions

from schemas import Alert, RiskSignal
from streams.core.alerts.locate import locate
from streams.core.alerts.scopes import ScopeEngine
from streams.core.shared.catalogue import Catalogue, load_catalogue
from streams.core.shared.ids import stable_id
from streams.core.shared.regions import RegionIndex

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)

#: risk point → (module, severity)
RP = {
    "restaurant_gas_leak": ("gas_safety", "critical"),
    "smoke_in_rental_flat": ("fire_safety", "high"),
    "gas_alarm_after_failed_inspection": ("gas_safety", "high"),
    "operating_with_expired_certificate": ("production_safety", "medium"),
    "chemical_storage_hot": ("hazardous_chemicals", "high"),
    "underpass_waterlogging": ("flood_control", "high"),
    "overloaded_truck": ("road_traffic", "medium"),
    "tower_crane_wind": ("construction", "high"),
    "elderly_fall": ("vulnerable_residents", "critical"),
    "river_level_high": ("flood_control", "medium"),
}


def signal(rp: str, place: str, minutes: float, n: int = 0) -> RiskSignal:
    module, sev = RP[rp]
    t = T0 + timedelta(minutes=minutes)
    src = f"ev-{rp}-{place}-{minutes:g}-{n}"
    return RiskSignal(
        signal_id=stable_id("sig", rp, src),
        risk_point=rp,
        module=module,
        detector_id=f"threshold.{rp}",
        detector_version=1,
        source_key=f"sensor-{rp}-{place}",
        place_id=place,
        severity=sev,  # type: ignore[arg-type]
        emergency=sev in ("high", "critical"),
        score=1.0,
        threshold=1.0,
        indicators={"value": 42.0},
        source_event_ids=[src],
        event_time=t,
        detected_at=t,
    )


class Run:
    """locate + assess with dict tables; offsets per place in arrival order."""

    def __init__(self, catalogue: Catalogue | None = None, index: RegionIndex | None = None):
        self.catalogue = catalogue or load_catalogue()
        self.index = index or small_regions()
        self.engine = ScopeEngine(self.catalogue, self.index)
        self.clocks: dict[str, Any] = {}
        self.table: dict[str, Any] = {}
        self.alerts: list[Alert] = []
        self.late: list[str] = []
        self.offset = 0

    def feed(self, *signals: RiskSignal) -> Run:
        lateness = self.catalogue.windows.allowed_lateness_s
        for sig in signals:
            self.offset += 1
            found = locate(sig, self.clocks.get(sig.place_id), self.offset, lateness, self.index)
            self.clocks[sig.place_id] = found.clock
            if found.late:
                self.late.append(sig.signal_id)
                continue
            for scoped in found.scoped:
                step = self.engine.on_signal(scoped, self.table.get, 0)
                for k, v in step.writes.items():
                    if v is None:
                        self.table.pop(k, None)
                    else:
                        self.table[k] = v
                self.alerts.extend(step.alerts)
                if step.late:
                    self.late.append(sig.signal_id)
        return self

    def latest(self) -> dict[str, Alert]:
        out: dict[str, Alert] = {}
        for a in self.alerts:
            if a.alert_id not in out or out[a.alert_id].version < a.version:
                out[a.alert_id] = a
        return out

    def by_rule(self) -> dict[tuple[str, str], Alert]:
        return {(a.rule_id, a.scope): a for a in self.latest().values()}
