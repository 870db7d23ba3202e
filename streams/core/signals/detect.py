"""Detection: readings and department records against every risk point that watches them.

(reading / department event → **signal** → alert → order → notification.)
Pure: the caller owns the per-key state (a sensor for readings, a place for
department records) as one compact JSON string, which the worker keeps in a
changelog-backed table. Detectors are rebuilt from that string on every
event, so memory holds strings, not live objects, and a restart or a
partition move resumes exactly where the state left off.

The same state carries the machine re-check of auto-disposal
(:mod:`streams.core.signals.recheck`): an auto-disposable risk point that fires
begins a check there, each later observation is judged in it on the same
pass, and an order's watch request attaches to it (:meth:`Detection.attach`).
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas import (
    DepartmentEvent,
    DisposalWatch,
    PlaceWatch,
    RiskSignal,
    SensorHealth,
    SensorReading,
)
from streams.core.shared.catalogue import Catalogue, RiskPoint
from streams.core.shared.ids import stable_id
from streams.core.signals import recheck as disposal
from streams.core.signals.detectors import Detector, Point, Record
from streams.core.signals.live import Live
from streams.core.signals.trigger import Trigger

#: Per-key state as stored: compact JSON of {risk point id: {"d": detector, "g": trigger,
#: "c": re-checks of auto-disposal (only while any run, see streams.core.signals.recheck)}}.
KeyState = str


@dataclass(frozen=True)
class Observed:
    """What one observation did to its key: the new state, signals, and re-check verdicts."""

    state: KeyState
    signals: list[RiskSignal]
    health: list[SensorHealth]


class Conflict(ValueError):
    """An input whose id its key has seen with other content: the first content stands,
    this one is refused (dead-lettered as ``conflict``)."""


@dataclass
class Observations:
    """What a run of readings did: the outputs in order, the readings refused as
    conflicts (their index and why), and how many were repeats taken once already."""

    outputs: list[RiskSignal | SensorHealth] = field(default_factory=list)
    conflicts: list[tuple[int, str]] = field(default_factory=list)
    repeats: int = 0


@dataclass(frozen=True)
class Bound:
    """A risk point with its detector class, parameters and trigger resolved."""

    risk_point: RiskPoint
    cls: type[Detector[Any]]
    params: dict[str, Any]
    trigger: Trigger
    judge: disposal.Judge

    @property
    def detector_id(self) -> str:
        return f"{self.cls.kind}.{self.risk_point.id}"


class Detection:
    """Applies the catalogue's detectors; one instance serves every key."""

    def __init__(
        self,
        catalogue: Catalogue,
        seed: int = 0,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        """``observe(kind, seconds)``, if given, hears each detector's time per event."""
        self.seed = seed
        self._observe = observe
        self._by_kind: dict[str, list[Bound]] = {}
        self._by_type: dict[str, list[Bound]] = {}
        self._by_id: dict[str, Bound] = {}
        self.silence_of = catalogue.silence_of()  # kind → its dead-man's switch
        for rp in catalogue.risk_points:
            cls, params, trigger = rp.detector.cls, dict(rp.detector.params), rp.make_trigger()
            bound = Bound(rp, cls, params, trigger, disposal.Judge(cls, params, seed, trigger))
            self._by_id[rp.id] = bound
            if rp.source.sensor_kind is not None:
                self._by_kind.setdefault(rp.source.sensor_kind, []).append(bound)
            for et in rp.source.event_types or ():
                self._by_type.setdefault(et, []).append(bound)

    def watches(self, sensor_kind: str) -> bool:
        return sensor_kind in self._by_kind

    def on_reading(
        self, reading: SensorReading, state: KeyState | None, now: datetime
    ) -> tuple[KeyState, list[RiskSignal]]:
        """New state for the sensor, and the signals this reading raised."""
        seen = self.observe_reading(reading, state, now)
        return seen.state, seen.signals

    def on_department_event(
        self, event: DepartmentEvent, state: KeyState | None, now: datetime
    ) -> tuple[KeyState, list[RiskSignal]]:
        """New state for the place, and the signals this record raised."""
        seen = self.observe_record(event, state, now)
        return seen.state, seen.signals

    def observe_reading(
        self, reading: SensorReading, state: KeyState | None, now: datetime
    ) -> Observed:
        """:meth:`on_reading`, with the re-check verdicts for orders watching the sensor
        (a repeat changes nothing; a :class:`Conflict` is raised)."""
        live = self.load(state)
        seen = self.observe_many([reading], lambda _: live, now)
        if seen.conflicts:
            raise Conflict(seen.conflicts[0][1])
        signals = [o for o in seen.outputs if isinstance(o, RiskSignal)]
        health = [o for o in seen.outputs if isinstance(o, SensorHealth)]
        return Observed(self.dump(live), signals, health)

    def observe_many(
        self,
        readings: Iterable[SensorReading],
        live_of: Callable[[str], Live],
        now: datetime,
        at: tuple[str, int] | None = None,
    ) -> Observations:
        """:meth:`observe_live` over ``readings`` in order, each on ``live_of(sensor_id)``:
        every signal and re-check verdict, in order; a reading its sensor has seen
        already is skipped (a repeat) or refused (a :class:`Conflict`), the rest go on.
        ``at``: where the readings were read (a log and a position in it, all of them
        one input): a sensor whose state has taken that input skips them (a replay)."""
        seen = Observations()
        outputs = seen.outputs
        by_kind, silence_of = self._by_kind, self.silence_of
        touched: list[tuple[Live, float]] = []
        for i, reading in enumerate(readings):
            if reading.sensor_kind not in by_kind:
                continue  # no risk point watches it: nothing to learn, nothing to remember
            live = live_of(reading.sensor_id)
            t = reading.event_time.timestamp()  # once: the position and the content use it
            if at is not None:
                if live.taken(*at, t):
                    seen.repeats += 1
                    continue
                touched.append((live, t))
            content = _content(reading, t)
            before = live.remember(reading.reading_id, content)
            if before is not None:
                if before == content:
                    seen.repeats += 1
                else:
                    seen.conflicts.append((i, _conflict(reading, before)))
                continue
            signals, health = self.observe_live(reading, live, now)
            outputs += signals
            outputs += health
            if reading.sensor_kind in silence_of:  # its dead-man's switch needs it
                live.see(reading.sensor_kind, reading.place_id, t, reading.reading_id)
        if at is not None:  # after the whole input: a batch holds one sensor's readings often
            for live, t in touched:
                live.take(*at, t)
        return seen

    def observe_record(
        self, event: DepartmentEvent, state: KeyState | None, now: datetime
    ) -> Observed:
        """:meth:`on_department_event`, with the re-check verdicts for orders watching the place."""
        live = self.load(state)
        watched = event.event_type in self._by_type
        before = live.remember(event.event_id, _digest(event)) if watched else None
        if before is not None:
            if before != _digest(event):
                raise Conflict(f"event_id {event.event_id!r} was taken before with other content")
            return Observed(self.dump(live), [], [])  # a repeat: taken once already
        x = Record(
            t=event.event_time,
            department=event.department,
            event_type=event.event_type,
            attributes=event.attributes,
            event_id=event.event_id,
            subject_id=event.subject_id,
        )
        bounds = self._by_type.get(event.event_type, [])
        source_key = event.subject_id or event.place_id
        signals, health = self._step(
            bounds, x, live, now, source_key, event.place_id, event.place_id
        )
        return Observed(self.dump(live), signals, health)

    def learn(
        self,
        xs: Iterable[Point] | Iterable[Record],
        *,
        sensor_kind: str | None = None,
        state: KeyState | None = None,
    ) -> KeyState | None:
        """The state of a key after its history ``xs`` (in time order): what its
        detectors learnt and where their triggers stand, as :meth:`observe_reading` /
        :meth:`observe_record` would leave it, without the signals (the history's are
        gone) and without re-checks (no order watches history). ``sensor_kind``: the
        points' sensor kind; records find their risk points by event type. ``None``
        when no risk point watches any of them. Detectors stay live objects for the
        whole history (one JSON round trip per key, not per observation), so this is
        how a worker's detectors are warmed from days of history
        (:mod:`streams.core.signals.baseline`)."""
        stored: dict[str, Any] = json.loads(state) if state else {}
        live: dict[str, tuple[Bound, Detector[Any], Any]] = {}
        for x in xs:
            if isinstance(x, Point):
                bounds = self._by_kind.get(sensor_kind or "", [])
            else:
                bounds = self._by_type.get(x.event_type, [])
            for b in bounds:
                rp = b.risk_point.id
                if rp not in live:
                    entry = stored.get(rp) or {}
                    det = b.cls.from_params(b.params, self.seed)
                    if "d" in entry:
                        det.load(entry["d"])
                    live[rp] = (b, det, entry.get("g"))
                b, det, trig = live[rp]
                trig, _ = b.trigger.step(trig, det.score_one(x), x.t, det.is_warm())
                det.learn_one(x)
                live[rp] = (b, det, trig)
        if not live and not stored:
            return None
        for rp, (_, det, trig) in live.items():
            stored[rp] = {**stored.get(rp, {}), "d": det.state(), "g": trig}
        return json.dumps(stored, separators=(",", ":"))

    def attach(
        self, req: DisposalWatch | PlaceWatch, state: KeyState | None, now: datetime
    ) -> tuple[KeyState | None, list[SensorHealth]]:
        """Attach an order's watch to the re-check of its alarm in this key's state.

        Returns the new state (``None``: unchanged) and the verdict if it is
        already "recovered" (the order side starts from "not recovered").
        """
        b = self._by_id.get(req.risk_point)
        stored: dict[str, Any] = json.loads(state) if state else {}
        entry = stored.get(req.risk_point)
        if b is None or entry is None or not entry.get("c"):
            return None, []  # no alarm to judge from: the order escalates at its re-check
        if isinstance(req, DisposalWatch):
            needed, quiet_from = req.healthy_readings, req.event_time
            healthy_for = req.healthy_for_s
        else:
            needed, quiet_from, healthy_for = 1, req.quiet_from, None
        checks, events = disposal.attach(
            entry["c"],
            b.judge,
            req.order_id,
            disposal.watched_key(req),
            needed,
            quiet_from,
            req.until,
            req.since,
            now,
            healthy_for,
        )
        if checks == entry["c"]:
            return None, events
        stored[req.risk_point] = {**entry, "c": checks}
        return json.dumps(stored, separators=(",", ":")), events

    # -- live keys: detectors kept as objects between one write of their state and the next

    def load(self, state: KeyState | None) -> Live:
        """A key's state as live detectors, built lazily as its risk points are observed."""
        return Live(json.loads(state) if state else {})

    def dump(self, live: Live) -> KeyState:
        """The stored form of a live key: what :meth:`observe_reading` would have returned."""
        return json.dumps(live.stored(), separators=(",", ":"))

    def observe_live(
        self, reading: SensorReading, live: Live, now: datetime
    ) -> tuple[list[RiskSignal], list[SensorHealth]]:
        """:meth:`observe_reading` on a live key (changed in place): the signals and the
        re-check verdicts, without a JSON round trip of its state per reading."""
        x = self._point(reading)
        bounds = self._by_kind.get(reading.sensor_kind, [])
        return self._step(
            bounds, x, live, now, reading.sensor_id, reading.place_id, reading.sensor_id
        )

    @staticmethod
    def _point(reading: SensorReading) -> Point:
        return Point(
            t=reading.event_time,
            value=reading.value,
            values={"value": reading.value, **reading.values} if reading.values else {},
            event_id=reading.reading_id,
        )

    def _step(
        self,
        bounds: list[Bound],
        x: Point | Record,
        live: Live,
        now: datetime,
        source_key: str,
        place_id: str,
        state_key: str,
    ) -> tuple[list[RiskSignal], list[SensorHealth]]:
        signals: list[RiskSignal] = []
        health: list[SensorHealth] = []
        observe = self._observe
        for b in bounds:
            started = time.perf_counter() if observe is not None else 0.0
            rp = b.risk_point
            slot = live.slot(rp.id, b.cls, b.params, self.seed)
            det = slot.det
            score = det.score_one(x)
            warm = det.is_warm()
            slot.g, fired = b.trigger.step(slot.g, score, x.t, warm)
            if slot.c:
                slot.c, verdicts = disposal.observe(slot.c, b.judge, x, state_key, now)
                health += verdicts
            if fired:
                signals.append(self._signal(b, det, x, score, now, source_key, place_id))
                if rp.auto_dispose:  # a snapshot: the live detector goes on learning
                    snapshot = json.loads(json.dumps(det.state()))
                    slot.c = disposal.begin(slot.c, b.judge, snapshot, x)
            det.learn_one(x)
            if observe is not None:
                observe(b.cls.kind, time.perf_counter() - started)
        return signals, health

    @staticmethod
    def _signal(
        b: Bound,
        det: Detector[Any],
        x: Point | Record,
        score: float,
        now: datetime,
        source_key: str,
        place_id: str,
    ) -> RiskSignal:
        rp = b.risk_point
        evidence = det.evidence(x) or [x.event_id]
        return RiskSignal(
            signal_id=stable_id("sig", b.detector_id, b.cls.version, *evidence),
            risk_point=rp.id,
            module=rp.module,
            detector_id=b.detector_id,
            detector_version=b.cls.version,
            source_key=source_key,
            place_id=place_id,
            severity=rp.severity,
            emergency=rp.emergency,
            score=score,
            threshold=b.trigger.threshold,
            baseline=det.baseline(),
            indicators={k: float(v) for k, v in list(det.indicators(x).items())[:32]},
            source_event_ids=evidence[:64],
            event_time=x.t,
            detected_at=now,
        )


def _content(reading: SensorReading, t: float) -> list[Any]:
    """What a reading says, as remembered with its id: its value(s) and its instant."""
    out: list[Any] = [reading.value, t]
    if reading.values:
        out.append(dict(sorted(reading.values.items())))
    return out


def _conflict(reading: SensorReading, before: list[Any]) -> str:
    return (
        f"reading_id {reading.reading_id!r} of sensor {reading.sensor_id!r} was taken before "
        f"with value {before[0]!r} at {datetime.fromtimestamp(before[1], UTC).isoformat()}; "
        f"this one says {reading.value!r} at {reading.event_time.isoformat()}"
    )


def _digest(event: DepartmentEvent) -> int:
    """A department record's content as remembered with its id (records are few: all of it)."""
    return zlib.crc32(event.model_dump_json().encode())
