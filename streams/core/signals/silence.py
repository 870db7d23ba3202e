"""The dead-man's switch: a sensor that stops reporting raises a signal (reading → **signal**).

Field devices report on a heartbeat (LwM2M ``pmax``; an NB-IoT gas alarm every
hour) and at once when they alarm, so a gas alarm that has said nothing for
hours is not a quiet kitchen: nobody is watching it. A catalogue silence point
(:class:`~streams.core.shared.catalogue.SilencePoint`) gives each sensor kind it
covers a heartbeat; a sensor whose last reading is more than ``after``
heartbeats old raises that point's signal, once per silence.

"Old" is measured on the event time of the sensor's **partition** (the newest
reading its other sensors have sent), never the wall clock: a replay, a backlog
or a day fed at speed runs on its readings' clock, and a partition whose
readings stop altogether (the gateway, the link) raises nothing here, for
there is no event time to measure a silence by (its lag and stalls are what
show it). One :class:`SilenceWatch` judges one partition. What it knows of a
sensor is the sensor's own ``seen`` record, [kind, place, event time, reading
id, signalled], which the detector state keeps (:class:`~streams.core.signals.live.Live`),
so a restart rebuilds the watch from the stored states and a silence signalled
before it is not signalled again; the signal's id comes from the sensor's last
reading, so a silence published twice is taken once downstream.

>>> from streams.core.shared.catalogue import SilencePoint
>>> sp = SilencePoint(id="alarm_silent", module="gas_safety", name="A gas alarm went quiet",
...                   heartbeats={"gas_lel": 3600}, severity="medium")
>>> watch = SilenceWatch({"gas_lel": sp})
>>> watch.seen("s1", ["gas_lel", "p1", 0.0, "r1", 0])
>>> watch.seen("s2", ["gas_lel", "p2", 0.0, "r2", 0])
>>> for h in range(1, 6):  # s2 reports every hour; s1 said nothing since t=0
...     watch.seen("s2", ["gas_lel", "p2", h * 3600.0, f"r2-{h}", 0])
>>> [(sensor, sig.risk_point, sig.indicators["silent_s"]) for sensor, sig in watch.due(NOW)]
[('s1', 'alarm_silent', 18000.0)]
>>> watch.due(NOW)  # once per silence
[]
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from schemas import RiskSignal
from streams.core.shared.catalogue import SilencePoint
from streams.core.shared.ids import stable_id

#: The version of the switch's logic: part of every signal id it makes.
VERSION = 1
#: Where a sensor's ``seen`` record sits in its stored state (see the module docstring).
KIND, PLACE, T, READING, SIGNALLED = range(5)
#: for the doctest: a processing time
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def detector_id(sp: SilencePoint) -> str:
    """What a silence signal names as its detector."""
    return f"silence.{sp.id}"


class SilenceWatch:
    """One partition's dead-man's switch over its sensors of the kinds in ``points``."""

    __slots__ = ("_heap", "_last", "_points", "watermark")

    def __init__(self, points: Mapping[str, SilencePoint]) -> None:
        self._points = points
        #: per sensor, its ``seen`` record (as the detector state holds it)
        self._last: dict[str, list[Any]] = {}
        #: (deadline, last event time, sensor): a sensor silent past its deadline, if its
        #: last reading is still the one the entry was made for
        self._heap: list[tuple[float, float, str]] = []
        #: the partition's event time: the newest reading seen (Unix s)
        self.watermark = float("-inf")

    def __len__(self) -> int:
        return len(self._last)

    def tick(self, t: float) -> None:
        """A reading at event time ``t`` (Unix s) was read: the partition's clock."""
        if t > self.watermark:
            self.watermark = t

    def seen(self, sensor_id: str, record: list[Any]) -> None:
        """Sensor ``sensor_id``'s ``seen`` record, just made by the reading it names: the
        clock moves to that reading (:meth:`tick`) and the sensor is watched from it
        (:meth:`know`). A kind no point covers only moves the clock."""
        self.tick(float(record[T]))
        self.know(sensor_id, record)

    def know(self, sensor_id: str, record: list[Any]) -> None:
        """Watch sensor ``sensor_id`` from its ``seen`` record *without* moving the clock:
        a record from a stored state (a rebuild), or one ahead of the reading read (a
        replay after a restart, whose sensor's state was written past it). Only
        readings read move the clock: a stored record ahead of them would make every
        sensor whose state was written earlier look silent until its own readings,
        still to be read again, arrive.

        >>> sp = SilencePoint(id="alarm_silent", module="gas_safety", name="A gas alarm went quiet",
        ...                   heartbeats={"gas_lel": 3600}, severity="medium")
        >>> w = SilenceWatch({"gas_lel": sp})
        >>> w.know("ahead", ["gas_lel", "p1", 9 * 3600.0, "a-9", 0])
        >>> w.seen("behind", ["gas_lel", "p2", 0.0, "b-0", 0])
        >>> w.watermark, w.due(NOW)
        (0.0, [])
        """
        sp = self._points.get(record[KIND])
        if sp is None:
            return
        t = float(record[T])
        last = self._last.get(sensor_id)
        if last is not None and last[T] > t:
            return  # an older reading of the sensor, late: its silence runs from the newer
        self._last[sensor_id] = record
        if not record[SIGNALLED]:
            deadline = t + sp.after * sp.heartbeats[record[KIND]]
            heapq.heappush(self._heap, (deadline, t, sensor_id))

    def due(self, now: datetime) -> list[tuple[str, RiskSignal]]:
        """The sensors that went silent by the partition's event time, each with its
        signal (once: its record is marked signalled). ``now``: processing time."""
        out: list[tuple[str, RiskSignal]] = []
        heap = self._heap
        while heap and heap[0][0] < self.watermark:
            _, t, sensor_id = heapq.heappop(heap)
            last = self._last.get(sensor_id)
            if last is None or last[T] != t or last[SIGNALLED]:
                continue  # it reported since: this deadline is void
            last[SIGNALLED] = 1
            out.append((sensor_id, self._signal(sensor_id, last, now)))
        return out

    def _signal(self, sensor_id: str, last: list[Any], now: datetime) -> RiskSignal:
        sp = self._points[last[KIND]]
        beat = sp.heartbeats[last[KIND]]
        silent = self.watermark - float(last[T])
        det = detector_id(sp)
        return RiskSignal(
            signal_id=stable_id("sig", det, VERSION, last[READING]),
            risk_point=sp.id,
            module=sp.module,
            detector_id=det,
            detector_version=VERSION,
            source_key=sensor_id,
            place_id=last[PLACE],
            severity=sp.severity,
            emergency=sp.emergency,
            score=silent / beat,
            threshold=sp.after,
            baseline=beat,
            indicators={
                "silent_s": silent,
                "heartbeat_s": beat,
                "heartbeats_missed": silent / beat,
            },
            source_event_ids=[last[READING]],
            event_time=datetime.fromtimestamp(self.watermark, UTC),
            detected_at=now,
        )
