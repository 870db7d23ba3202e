"""Automatic disposal on the sensor side: is a reading healthy, and has the sensor recovered?

(alert → **order** → notification, machine first.) For an auto-disposable
order the sensor side keeps, per watched sensor, one :class:`Watch` per order
and counts healthy readings in a row; when the count reaches N (or falls back
to 0 after reaching it) the order side is told, keyed by order id.

A reading is healthy when the risk point's detector would consider the alarm
cleared: for a threshold detector, at or below ``clear`` (or below ``upper``
when no ``clear`` is set). Detector kinds this module does not know are never
judged healthy, so such orders escalate to a person rather than close wrongly.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas import DisposalWatch, SensorHealth, SensorReading
from streams.core.catalogue import RiskPoint
from streams.core.ids import stable_id


def is_healthy(rp: RiskPoint, value: float) -> bool:
    """Whether ``value`` is back to normal for ``rp``'s detector.

    >>> from streams.core.catalogue import load_catalogue
    >>> river = load_catalogue().risk_point("river_level_high")  # upper 4.5, clear 4.2
    >>> [is_healthy(river, v) for v in (4.0, 4.2, 4.3, 4.6)]
    [True, True, False, False]
    """
    if rp.detector.kind != "threshold":
        return False
    params = rp.detector.params
    clear = params.get("clear")
    if clear is not None:
        return value <= float(clear)
    return value < float(params["upper"])


class Watch(BaseModel):
    """One order watching one sensor (JSON in the sensor-side table)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    risk_point: str
    needed: int = Field(ge=1)
    until: AwareDatetime
    streak: int = 0
    recovered: bool = False


def start(watches: dict[str, Watch], req: DisposalWatch) -> dict[str, Watch]:
    """Add a watch (idempotent: a replayed request keeps the streak counted so far)."""
    if req.order_id in watches:
        return watches
    return {
        **watches,
        req.order_id: Watch(
            order_id=req.order_id,
            risk_point=req.risk_point,
            needed=req.healthy_readings,
            until=req.until,
        ),
    }


def on_reading(
    watches: dict[str, Watch],
    reading: SensorReading,
    healthy: dict[str, bool],
    now: datetime,
) -> tuple[dict[str, Watch], list[SensorHealth]]:
    """Count one reading for every order watching its sensor.

    ``healthy`` maps risk point id → whether this reading is healthy for it.
    Watches past their ``until`` are dropped: their order has been decided.
    """
    out: dict[str, Watch] = {}
    events: list[SensorHealth] = []
    for oid, w in watches.items():
        if now > w.until:
            continue
        streak = w.streak + 1 if healthy.get(w.risk_point, False) else 0
        recovered = streak >= w.needed
        if recovered != w.recovered:
            events.append(
                SensorHealth(
                    health_id=stable_id("health", oid, reading.sensor_id, reading.reading_id),
                    order_id=oid,
                    sensor_id=reading.sensor_id,
                    recovered=recovered,
                    healthy_streak=streak,
                    reading_id=reading.reading_id,
                    event_time=now,
                )
            )
        out[oid] = w.model_copy(update={"streak": streak, "recovered": recovered})
    return out, events
