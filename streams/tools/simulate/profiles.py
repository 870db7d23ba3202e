"""How each sensor kind behaves in the simulated district, and what record incidents file.

(**reading** → signal.) A profile is a daily cosine, noise, a physical floor,
and what an incident does to the value (set it, shift it, scale it) and for
how long at least. A multi-channel station's profile names its channel model
(:mod:`streams.tools.simulate.stations`) instead: its cosine and noise are the
station's load, which the model turns into every channel, and an incident is
one of the model's faults. Record incidents are pairs of department records that
collide (a failed fire inspection, then a gas alarm at the same restaurant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Profile:
    """How one sensor kind behaves: a daily profile, noise, and what an incident looks like."""

    unit: str
    base: float
    amplitude: float = 0.0  # daily swing (cosine peaking at ``peak_hour``)
    peak_hour: float = 14.0
    noise: float = 0.0
    floor: float | None = None  # physical lower bound (e.g. 0 for rain)
    incident: float = 0.0  # value during an incident ("set") or added to normal ("shift")
    mode: str = "set"  # "set", "shift", "scale"
    incident_min: float = 20.0  # minutes an incident lasts, at least
    every: int = 1  # reports every N reading intervals (meters aggregate, e.g. 15 min)
    risk_point: str = ""  # filled from the catalogue
    #: a multi-channel station's model (streams.tools.simulate.stations.CHANNEL_MODELS):
    #: base, amplitude, noise and floor are then its load, a fraction of its design duty
    channels: str | None = None


#: every sensor kind of the default catalogue: normal life, and its incident
PROFILES: dict[str, Profile] = {
    "gas_lel": Profile("%LEL", 1.0, 0.5, 12, 0.3, 0.0, 32.0),
    "gas_pressure_kpa": Profile("kPa", 2.0, 0.1, 12, 0.02, 0.0, -0.9, "shift", 120),
    "gas_flow_m3h": Profile("m3/h", 3.0, 2.0, 12, 0.3, 0.0, 5.0, "scale", 120, every=15),
    "smoke_obscuration": Profile("%/m", 0.2, 0.05, 19, 0.05, 0.0, 8.0),
    "hydrant_pressure_mpa": Profile("MPa", 0.35, 0.02, 8, 0.01, 0.0, 0.08, "set", 30),
    "cable_temp_c": Profile("°C", 35.0, 8.0, 15, 1.0, None, 85.0),
    "water_depth_cm": Profile("cm", 2.0, 0.0, 0, 0.5, 0.0, 36.0, "set", 60),
    "river_level_m": Profile("m", 3.6, 0.1, 4, 0.03, 0.0, 4.8, "set", 120),
    "rain_mm_h": Profile("mm/h", 0.5, 0.0, 0, 0.5, 0.0, 72.0, "set", 40),
    "drain_level_cm": Profile("cm", 40.0, 5.0, 8, 1.0, 0.0, 45.0, "shift", 120),
    "wind_speed_ms": Profile("m/s", 4.0, 2.0, 15, 1.0, 0.0, 17.5),
    "settlement_mm": Profile("mm", 3.0, 0.0, 0, 0.2, None, 18.0, "shift", 180),
    "noise_db": Profile("dB", 58.0, 12.0, 14, 2.0, 30.0, 1.8, "scale", 120, every=15),
    "dust_mg_m3": Profile("mg/m3", 1.5, 0.5, 11, 0.3, 0.0, 12.0),
    "boiler_pressure_mpa": Profile("MPa", 0.9, 0.05, 10, 0.02, 0.0, 1.4),
    "vibration_mm_s": Profile("mm/s", 2.5, 0.0, 0, 0.2, 0.0, 4.0, "shift", 120),
    "storage_temp_c": Profile("°C", 22.0, 4.0, 15, 0.5, None, 41.0, "set", 40),
    "toxic_gas_ppm": Profile("ppm", 0.5, 0.0, 0, 0.3, 0.0, 26.0),
    "tank_level_pct": Profile("%", 60.0, 0.0, 0, 0.5, 0.0, -25.0, "shift", 120),
    "water_use_m3h": Profile("m3/h", 0.3, 0.2, 20, 0.05, 0.0, 7.0, "scale", 120, every=15),
    "ebike_charging_current_a": Profile("A", 0.1, 0.0, 0, 0.05, 0.0, 6.5, "set", 30),
    "cold_storage_temp_c": Profile("°C", -21.0, 0.5, 15, 0.3, None, -9.0, "set", 40),
    "road_speed_kmh": Profile("km/h", 45.0, -12.0, 8, 3.0, 3.0, 0.15, "scale", 120, every=15),
    "road_surface_temp_c": Profile("°C", 8.0, 4.0, 14, 0.5, None, -3.0, "set", 60),
    "axle_load_t": Profile("t", 25.0, 0.0, 0, 4.0, 5.0, 56.0, "set", 5),
    "water_use_lph": Profile("l/h", 20.0, 15.0, 8, 3.0, 0.0, 0.0, "set", 780),
    "activity_events_h": Profile("1/h", 6.0, 5.0, 11, 1.0, 0.0, 5.0, "scale", 120, every=15),
    "fall_detector": Profile("", 0.0, 0.0, 0, 0.0, 0.0, 1.0, "set", 2),
    # multi-channel stations: the load's daily cycle; an incident is one of the model's faults
    "pump_station": Profile(
        "m3/h", 0.75, 0.2, 14, 0.02, 0.0, incident_min=120, channels="pump_station"
    ),
    "gas_regulator_station": Profile(
        "kPa", 0.7, 0.2, 12, 0.02, 0.05, incident_min=120, channels="gas_regulator_station"
    ),
    "water_supply_station": Profile(
        "MPa", 0.7, 0.2, 8, 0.02, 0.05, incident_min=120, channels="water_supply_station"
    ),
}

#: record incidents: (risk point, kind of place, records as (event type, attributes))
RECORD_INCIDENTS: tuple[tuple[str, str, tuple[tuple[str, dict[str, Any]], ...]], ...] = (
    (
        "gas_alarm_after_failed_inspection",
        "restaurant",
        (("fire_inspection_failed", {"items": 3}), ("gas_alarm_report", {"alarm_level": 2})),
    ),
    (
        "rental_overcrowding",
        "rental-flat",
        (
            ("rental_registration", {"declared_tenants": 2}),
            ("utility_occupancy", {"estimated_occupants": 11}),
        ),
    ),
    (
        "operating_with_expired_certificate",
        "factory",
        (("safety_certificate_expired", {}), ("production_activity_report", {"shift": "night"})),
    ),
    (
        "dispute_turning_violent",
        "cell",
        (("dispute_call", {"parties": 2}), ("violence_report", {"injured": 1})),
    ),
)
#: minutes between the records of one record incident
RECORD_GAP_MIN = 10
