"""One single-risk alert for runtime tests: a gas alarm at a restaurant, alert-1 from sig-1."""

from __future__ import annotations

from datetime import datetime

from schemas import Alert, AlertKind


def gas_alert(at: datetime, level: str = "critical") -> Alert:
    """The alert a gas sensor's signal ``sig-1`` raises at ``restaurant-7`` at ``at``."""
    return Alert(
        event_time=at,
        alert_id="alert-1",
        kind=AlertKind.SINGLE,
        rule_id="single",
        level=level,  # type: ignore[arg-type]
        emergency=True,
        scope="restaurant-7",
        module="gas_safety",
        risk_points=["restaurant_gas_leak"],
        signal_ids=["sig-1"],
        summary="gas at restaurant-7",
    )
