"""A simulated sensor device: what it measures and when it reports.

(**reading** → signal.) The value follows its kind's profile
(:mod:`streams.tools.simulate.profiles`): a daily cosine, noise, and what an incident or a
fault does to it. The device reports the way field IoT devices do (LwM2M
``pmax``/``pmin``, NB-IoT alarm reporting):

- a **heartbeat** every ``HEARTBEAT_MIN[kind]`` minutes (15-60), from a random
  phase per device;
- while its value is outside its normal envelope (an incident, a spike), it
  reports **at once** and then every ``ALARM_EVERY_MIN`` minutes, and keeps
  that pace for ``HOLD_MIN`` minutes after the value is back (its "restored"
  reports);
- a **dropout** (a fault) silences it; a **stuck** sensor repeats one value
  on its heartbeat.

A multi-channel station (a profile with ``channels``,
:mod:`streams.tools.simulate.stations`) reports every channel at once: its
value is the main channel; an incident is one of its faults, which its
controller reports at once (alarm pace); a stuck one repeats its whole
telegram; a spike is one wild sample of the main channel.

An incident of a kind in :data:`TRANSIENT` (weather, traffic, a passing truck)
ends by itself; any other lasts until someone fixes it (the party concerned
after a reminder, or a field worker): :meth:`Device.fix`. Pure: the caller
asks for the next report time and the value at that time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from streams.tools.simulate.profiles import Profile
from streams.tools.simulate.stations import CHANNEL_MODELS, station_reading

#: minutes between two heartbeat reports, per sensor kind (see the module docstring)
HEARTBEAT_MIN: dict[str, float] = {
    # alarm devices on batteries (NB-IoT): an hourly heartbeat, alarms at once
    "gas_lel": 60,
    "smoke_obscuration": 60,
    "toxic_gas_ppm": 60,
    "fall_detector": 60,
    "hydrant_pressure_mpa": 60,
    "water_depth_cm": 60,
    "rain_mm_h": 60,
    "ebike_charging_current_a": 60,
    # slow physical quantities
    "river_level_m": 60,
    "settlement_mm": 60,
    "tank_level_pct": 60,
    "road_surface_temp_c": 60,
    "storage_temp_c": 60,
    "cable_temp_c": 60,
    "vibration_mm_s": 60,
    "gas_pressure_kpa": 60,
    "axle_load_t": 60,
    "water_use_lph": 60,
    "activity_events_h": 60,
    "road_speed_kmh": 60,
    "drain_level_cm": 60,
    # interval meters (half-hourly data, as smart meters settle it)
    "gas_flow_m3h": 30,
    "water_use_m3h": 30,
    "noise_db": 30,
    "dust_mg_m3": 30,
    # process safety: a crane's anemometer, a boiler, a cold-chain logger
    "wind_speed_ms": 15,
    "boiler_pressure_mpa": 15,
    "cold_storage_temp_c": 15,
    # stations polled by SCADA every 15 minutes (their multivariate detector learns a
    # day's cycle from 100 readings: 25 hours of them)
    "pump_station": 15,
    "gas_regulator_station": 15,
    "water_supply_station": 15,
}
#: the instant every device's heartbeats are counted from (its phase is its own)
HEARTBEAT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
#: minutes between reports while the value is outside its normal envelope
ALARM_EVERY_MIN = 2.0
#: minutes the device keeps the alarm pace after the value is back inside
HOLD_MIN = 10.0
#: kinds whose incidents end by themselves; any other lasts until it is fixed
TRANSIENT = frozenset(
    {"rain_mm_h", "wind_speed_ms", "river_level_m", "road_speed_kmh", "axle_load_t"}
)

#: kinds a storm moves (rain, water on roads and in rivers and drains, wind, a road's
#: surface): what a comprehensive incident is made of
STORM = frozenset(
    {
        "rain_mm_h",
        "water_depth_cm",
        "river_level_m",
        "drain_level_cm",
        "wind_speed_ms",
        "road_surface_temp_c",
    }
)

#: the district's clock: a profile's peak hour is a local hour (Yuhang: UTC+8)
LOCAL = timezone(timedelta(hours=8))


def normal_value(prof: Profile, level: float, phase_h: float, t: datetime) -> float:
    """The kind's daily profile at ``t`` (on the district's clock), before noise."""
    local = t.astimezone(LOCAL)
    hour = (local.hour + local.minute / 60 + phase_h) % 24
    return level + prof.amplitude * math.cos(2 * math.pi * (hour - prof.peak_hour) / 24)


def incident_value(prof: Profile, value: float, rng: random.Random) -> float:
    """What an incident makes of a normal ``value``: set, shifted or scaled."""
    if prof.mode == "set":
        return prof.incident + rng.gauss(0.0, prof.noise) * 0.5
    if prof.mode == "shift":
        return value + prof.incident
    return value * prof.incident


def spike_value(prof: Profile, value: float) -> float:
    """A spike fault: one wild sample."""
    return value * 3 + abs(prof.base) + 1


def envelope(prof: Profile) -> tuple[float, float]:
    """The device's normal envelope: the daily swing and four standard deviations of noise.

    >>> from streams.tools.simulate.profiles import PROFILES
    >>> envelope(PROFILES["gas_lel"])
    (0.0, 2.8)
    """
    reach = abs(prof.amplitude) + 4 * prof.noise
    lo, hi = prof.base * 0.9 - reach, prof.base * 1.1 + reach
    if prof.base < 0:
        lo, hi = prof.base * 1.1 - reach, prof.base * 0.9 + reach
    if prof.floor is not None:
        lo = max(lo, prof.floor)
    return round(lo, 6), round(hi, 6)


@dataclass
class Episode:
    """An incident or a fault on this device: from ``start`` to ``end`` (None: until fixed)."""

    kind: str  # "incident", "stuck", "dropout", "spike"
    start: datetime
    end: datetime | None
    fixed_at: datetime | None = None

    def until(self) -> datetime | None:
        if self.fixed_at is None:
            return self.end
        return self.fixed_at if self.end is None else min(self.end, self.fixed_at)

    def covers(self, t: datetime) -> bool:
        end = self.until()
        return self.start <= t and (end is None or t < end)


@dataclass
class Device:
    """One sensor: its profile, its episodes, its own random stream; reports on demand."""

    sensor_id: str
    kind: str
    prof: Profile
    rng: random.Random
    heartbeat: timedelta
    phase0: timedelta  # first heartbeat after the epoch
    episodes: list[Episode] = field(default_factory=list)
    level: float = 0.0
    phase_h: float = 0.0
    stuck: tuple[float, dict[str, float]] | None = None
    sent: int = 0
    seed: int | str = 0

    @classmethod
    def make(cls, sensor_id: str, kind: str, prof: Profile, seed: int | str) -> Device:
        rng = random.Random(f"yujing-day:{seed}:{sensor_id}")
        heartbeat = timedelta(minutes=HEARTBEAT_MIN.get(kind, 60))
        phase0 = timedelta(seconds=int(rng.uniform(0, heartbeat.total_seconds())))
        level = prof.base * rng.uniform(0.9, 1.1) if prof.base else prof.base
        phase_h = rng.uniform(-0.5, 0.5)
        return cls(sensor_id, kind, prof, rng, heartbeat, phase0, [], level, phase_h, seed=seed)

    def past(self) -> Device:
        """The same device in the days before: its level, phase and cadence, with a random
        stream of its own (the past never draws from the day's)."""
        rng = random.Random(f"yujing-day-past:{self.seed}:{self.sensor_id}")
        return Device(
            self.sensor_id,
            self.kind,
            self.prof,
            rng,
            self.heartbeat,
            self.phase0,
            [],
            self.level,
            self.phase_h,
            seed=self.seed,
        )

    # -- when -------------------------------------------------------------------------

    def _silent(self, t: datetime) -> bool:
        return any(e.kind == "dropout" and e.covers(t) for e in self.episodes)

    def outside(self, e: Episode, t: datetime) -> bool:
        """Whether ``e`` puts the value outside the normal envelope at ``t`` (noise aside)."""
        if e.kind == "spike" or self.prof.channels:
            return True  # a station's controller reports its fault at once
        base = normal_value(self.prof, self.level, self.phase_h, t)
        if self.prof.mode == "set":
            value = self.prof.incident
        elif self.prof.mode == "shift":
            value = base + self.prof.incident
        else:
            value = base * self.prof.incident
        lo, hi = envelope(self.prof)
        return not lo <= value <= hi

    def next_report(self, after: datetime, epoch: datetime = HEARTBEAT_EPOCH) -> datetime:
        """The first report time strictly after ``after`` (heartbeats count from ``epoch``)."""
        t = after
        for _ in range(10_000):  # a dropout can silence many heartbeats
            beat = self._next_beat(t, epoch)
            fast = self._next_fast(t, beat)
            t = beat if fast is None else min(beat, fast)
            if not self._silent(t):
                return t
        return t  # pragma: no cover - a dropout longer than 10,000 heartbeats

    def _next_beat(self, after: datetime, epoch: datetime) -> datetime:
        since = (after - epoch - self.phase0) / self.heartbeat
        k = math.floor(since) + 1
        return epoch + self.phase0 + k * self.heartbeat

    def _next_fast(self, after: datetime, limit: datetime) -> datetime | None:
        """The next alarm-paced report after ``after`` and before ``limit``, if any."""
        step = timedelta(minutes=ALARM_EVERY_MIN)
        hold = timedelta(minutes=HOLD_MIN)
        best: datetime | None = None
        for e in self.episodes:
            if e.kind not in ("incident", "spike") or e.start >= limit:
                continue
            end = e.until()
            n = 0 if e.start > after else math.floor((after - e.start) / step) + 1
            cand = e.start + n * step
            while cand < limit and (best is None or cand < best):
                if end is not None and cand >= end + hold:
                    break
                if (end is not None and cand >= end) or self.outside(e, cand):
                    best = cand  # out of the envelope, or the restored reports after it
                    break
                cand += step
        return best

    # -- what -------------------------------------------------------------------------

    def value_at(self, t: datetime) -> float:
        """The reported value at ``t`` (call once per report, in time order)."""
        return self.read(t)[0]

    def read(self, t: datetime) -> tuple[float, dict[str, float]]:
        """The reported value at ``t`` and, for a station, every channel (empty for a
        single-channel sensor); call once per report, in time order."""
        prof, rng = self.prof, self.rng
        value = normal_value(prof, self.level, self.phase_h, t)
        value += rng.gauss(0.0, prof.noise) if prof.noise else 0.0
        active = [e for e in self.episodes if e.covers(t)]
        incident = next((e for e in active if e.kind == "incident"), None)
        values: dict[str, float] = {}
        if prof.channels:
            load = value if prof.floor is None else max(prof.floor, value)
            start = incident.start if incident is not None else None
            value, values = station_reading(prof.channels, load, start, rng)
        else:
            if incident is not None:
                value = incident_value(prof, value, rng)
            if prof.floor is not None:
                value = max(prof.floor, value)
        if any(e.kind == "stuck" for e in active):
            self.stuck = (value, values) if self.stuck is None else self.stuck
            value, values = self.stuck
        else:
            self.stuck = None
        if any(e.kind == "spike" and abs((t - e.start).total_seconds()) < 1 for e in active):
            value = spike_value(prof, value)
            if prof.channels:  # the main channel's meter, so its channel too
                values = {**values, CHANNEL_MODELS[prof.channels].main: round(value, 4)}
        self.sent += 1
        return round(value, 4), values

    def fix(self, t: datetime) -> bool:
        """Someone fixed the device's hazard at ``t``: incidents going on end there."""
        hit = False
        for e in self.episodes:
            if e.kind == "incident" and e.covers(t):
                e.fixed_at = t
                hit = True
        return hit

    def in_incident(self, t: datetime) -> bool:
        return any(e.kind == "incident" and e.covers(t) for e in self.episodes)
