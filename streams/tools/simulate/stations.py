"""Multi-channel stations: how their channels follow one physics, and what a fault does.

(**reading** → signal.) A pump station, a gas pressure-regulating station or a
water-supply booster station reports one telegram of several channels that
move together when it is healthy (the multivariate detector,
:mod:`streams.core.signals.detectors.mahalanobis`, learns that correlation).
A :class:`ChannelModel` turns the station's load (a fraction of its design
duty: the daily profile of :mod:`streams.tools.simulate.profiles`, with its
noise) and the fault going on, if any, into every channel; the reading's main
``value`` is the model's ``main`` channel. Pure: the caller passes its random
stream. The pump physics is shared with ``yujing simulate-equipment``
(:mod:`streams.tools.simulate.equipment`).

Faults (what an incident on a station is), each breaking the usual correlation:

* pump station: **valve closure** (flow and current fall at the same speed;
  the head at the gauge stays) or **cavitation** (suction sags, flow and head
  fall, vibration rises);
* gas regulating station: the regulator **fails open** (outlet pressure climbs
  towards the inlet's, the valve is wide open) or **locks up** (outlet pressure
  and flow collapse while demand has not changed);
* water-supply station: a **pipe burst** downstream (flow jumps, the outlet
  pressure falls though the pumps run flat out).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

#: what an incident at a pump station is (``yujing simulate-equipment`` adds sensor faults)
PUMP_FAULTS = ("valve_closure", "cavitation")


def pump_physics(demand: float, fault: str | None, rng: random.Random) -> dict[str, float]:
    """A pump station's true state at ``demand`` (≈0.55-0.95): speed follows demand; flow
    follows speed and the discharge valve; head is the pump curve less the friction; the
    motor current follows hydraulic power; vibration follows speed.

    Draws, in order: suction noise, current noise, vibration noise (and a cavitation's
    extra vibration).

    >>> s = pump_physics(0.75, None, random.Random(0))
    >>> round(s["flow_m3h"]), round(s["speed_rpm"])
    (300, 1110)
    >>> shut = pump_physics(0.75, "valve_closure", random.Random(0))
    >>> shut["flow_m3h"] < s["flow_m3h"] / 2 and shut["current_a"] < s["current_a"] / 2
    True
    """
    speed = 1480.0 * demand
    valve = 0.3 if fault == "valve_closure" else 1.0
    cavitating = fault == "cavitation"
    suction = 120.0 + rng.gauss(0, 1.0) - (45.0 if cavitating else 0.0)
    flow = 400.0 * demand * valve * (0.8 if cavitating else 1.0)
    head = 0.00022 * speed**2 - 0.0006 * flow**2 * (1.0 / valve**2 if valve < 1 else 1.0)
    discharge = suction + max(head * 9.81, 0.0) * (0.85 if cavitating else 1.0)
    power = flow * max(discharge - suction, 1.0) / 3600.0
    current = 20.0 + 2.2 * power + rng.gauss(0, 0.6)
    vibration = 1.2 + 0.0012 * speed + rng.gauss(0, 0.08)
    if cavitating:
        vibration += 2.5 + abs(rng.gauss(0, 0.8))
    return {
        "flow_m3h": flow,
        "suction_kpa": suction,
        "discharge_kpa": discharge,
        "current_a": current,
        "vibration_mm_s": vibration,
        "speed_rpm": speed,
    }


def pump_station(load: float, fault: str | None, rng: random.Random) -> dict[str, float]:
    """A drainage pump station's telegram: :func:`pump_physics` as its meters read it, and
    the bearing temperature at its steady state for the current."""
    s = pump_physics(load, fault, rng)
    return {
        "flow_m3h": s["flow_m3h"] + rng.gauss(0, 3.0),
        "suction_kpa": s["suction_kpa"],
        "discharge_kpa": s["discharge_kpa"] + rng.gauss(0, 2.0),
        "current_a": s["current_a"],
        "vibration_mm_s": s["vibration_mm_s"],
        "bearing_temp_c": 30.0 + 0.6 * s["current_a"] + rng.gauss(0, 0.3),
        "speed_rpm": s["speed_rpm"] + rng.gauss(0, 2.0),
    }


def gas_regulator_station(load: float, fault: str | None, rng: random.Random) -> dict[str, float]:
    """A medium-to-low pressure regulating station: the flow follows the district's demand;
    the inlet (the medium-pressure main) sags as the network draws more; the regulator
    holds the outlet near its set point with a small droop, opening its valve as the flow
    grows; the gas cools across the pressure drop (Joule-Thomson, ~0.5 °C per 100 kPa)."""
    flow = 800.0 * load
    inlet = 300.0 - 60.0 * load + rng.gauss(0, 2.0)
    outlet = 3.2 - 0.4 * load + rng.gauss(0, 0.02)
    valve = 100.0 * flow / (800.0 * (inlet / 300.0) ** 0.5) * 0.7 + rng.gauss(0, 1.0)
    if fault == "fail_open":  # the main valve stuck wide: the outlet climbs, the monitor lags
        valve = 100.0 + rng.gauss(0, 0.5)
        outlet = 3.2 + 2.5 + rng.gauss(0, 0.1)
        flow *= 1.15
    elif fault == "lock_up":  # shut: what is left in the pipes drains, the burners starve
        valve = abs(rng.gauss(0, 0.5))
        outlet = 1.1 + rng.gauss(0, 0.05)
        flow *= 0.05
    ambient = 16.0 + rng.gauss(0, 0.3)
    return {
        "outlet_kpa": outlet,
        "inlet_kpa": inlet,
        "flow_m3h": flow + rng.gauss(0, 8.0),
        "valve_open_pct": valve,
        "gas_temp_c": ambient - 0.005 * (inlet - outlet),
    }


def water_supply_station(load: float, fault: str | None, rng: random.Random) -> dict[str, float]:
    """A booster station: the flow follows the demand; the pumps' speed rises with it to
    hold the outlet pressure; the inlet (the main) sags with the flow; the motor current
    follows the hydraulic power."""
    flow = 900.0 * load * (1.6 if fault == "pipe_burst" else 1.0)
    inlet = 0.22 - 0.06 * (flow / 900.0) ** 2 + rng.gauss(0, 0.004)
    speed = min(1480.0, 900.0 + 500.0 * flow / 900.0)
    outlet = 0.42 - 0.03 * load + rng.gauss(0, 0.004)
    if fault == "pipe_burst":  # the pumps cannot hold it: the network's pressure falls
        speed = 1480.0
        outlet = 0.26 + rng.gauss(0, 0.01)
    current = 30.0 + 0.05 * flow * (outlet - inlet) * 10.0 + rng.gauss(0, 1.0)
    return {
        "outlet_mpa": outlet,
        "inlet_mpa": inlet,
        "flow_m3h": flow + rng.gauss(0, 6.0),
        "current_a": current,
        "speed_rpm": speed + rng.gauss(0, 3.0),
    }


@dataclass(frozen=True)
class ChannelModel:
    """A kind of station: its channels from its load and fault, its main one, its faults."""

    read: Callable[[float, str | None, random.Random], dict[str, float]]
    main: str
    faults: tuple[str, ...]

    def fault_of(self, start: datetime) -> str:
        """Which fault an incident starting at ``start`` is (a fixed pick, no draw)."""
        return self.faults[int(start.timestamp()) // 60 % len(self.faults)]


#: channel model name (a profile's ``channels``) → the model
CHANNEL_MODELS: dict[str, ChannelModel] = {
    "pump_station": ChannelModel(pump_station, "flow_m3h", PUMP_FAULTS),
    "gas_regulator_station": ChannelModel(
        gas_regulator_station, "outlet_kpa", ("fail_open", "lock_up")
    ),
    "water_supply_station": ChannelModel(water_supply_station, "outlet_mpa", ("pipe_burst",)),
}


def station_reading(
    name: str, load: float, incident_start: datetime | None, rng: random.Random
) -> tuple[float, dict[str, float]]:
    """The main value and every channel (rounded) of a station of model ``name``."""
    model = CHANNEL_MODELS[name]
    fault = model.fault_of(incident_start) if incident_start is not None else None
    values = {k: round(v, 4) for k, v in model.read(load, fault, rng).items()}
    return values[model.main], values


__all__ = ["CHANNEL_MODELS", "ChannelModel", "pump_physics", "station_reading"]
