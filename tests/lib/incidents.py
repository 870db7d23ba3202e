"""Test support: an incident for any detector kind, its parameters and trigger.

A stream that is normal long enough for the detector to be warm, then turns
anomalous until the trigger fires; after that, two futures: the incident goes
on (``persist``), or the stream is normal again (``recover``; for department
records: they stop). Built from the detector's kind and parameters only, so
the same scenario serves the contract tests (sample parameters) and the
catalogue-wide test (each risk point's own parameters). A detector kind
without a scenario here fails loudly: every kind must show it can recover.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.core.signals.detectors import Detector, Point, Record
from streams.core.signals.trigger import Trigger

T0 = datetime(2026, 3, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Incident:
    """``history`` then ``onset``; after the alarm, ``persist(n)`` or ``recover(n)``."""

    history: list[Any]
    onset: list[Any]
    persist: Callable[[datetime, int], list[Any]]
    recover: Callable[[datetime, int], list[Any]]
    step: timedelta


def incident(cls: type[Detector[Any]], params: Mapping[str, Any], seed: int = 0) -> Incident:
    if cls.input == "point":
        return _points(cls, params, seed)
    if cls.kind == "rate":
        return _rate(params, seed)
    if cls.kind == "collision":
        return _collision(params)
    raise AssertionError(f"no incident scenario for detector kind {cls.kind!r}: add one here")


def _points(cls: type[Detector[Any]], params: Mapping[str, Any], seed: int) -> Incident:
    rng = random.Random(seed)
    step = timedelta(minutes=1)
    if cls.kind == "threshold":
        upper = float(params["upper"])
        sign = 1.0 if params.get("direction", "above") == "above" else -1.0
        clear = float(params.get("clear", upper - sign * max(abs(upper) * 0.1, 1e-9)))
        gap = abs(upper - clear)
        normal_at = lambda t: clear - sign * gap + rng.gauss(0, gap * 0.05)  # noqa: E731
        anomalous_at = lambda t: upper + sign * gap + rng.gauss(0, gap * 0.05)  # noqa: E731
        n_history = 60
    elif cls.kind in ("seasonal_zscore", "level_shift", "surprise", "likelihood", "mahalanobis"):

        def normal_at(t: datetime) -> float:
            day = (t - T0).total_seconds() / 86400.0
            return 10.0 + 2.0 * math.sin(2 * math.pi * day) + rng.gauss(0, 0.5)

        def anomalous_at(t: datetime) -> float:
            return normal_at(t) + 40.0

        # two days of readings a minute apart (every hour bucket is warm), or an hour more
        # than a warm-up in event time asks
        n_history = max(2 * 1440, int(float(params.get("warmup_s", 0.0)) / 60) + 60)
    else:
        raise AssertionError(f"no incident scenario for detector kind {cls.kind!r}: add one here")

    def points(start: datetime, n: int, at: Callable[[datetime], float], tag: str) -> list[Point]:
        out = []
        for i in range(n):
            t = start + i * step
            v = at(t)
            out.append(Point(t=t, value=v, values={"value": v}, event_id=f"{tag}{t:%j%H%M}"))
        return out

    history = points(T0, n_history, normal_at, "h")
    onset = points(T0 + n_history * step, 120, anomalous_at, "o")
    return Incident(
        history=history,
        onset=onset,
        persist=lambda start, n: points(start, n, anomalous_at, "p"),
        recover=lambda start, n: points(start, n, normal_at, "r"),
        step=step,
    )


def _rate(params: Mapping[str, Any], seed: int) -> Incident:
    """A place that sees a record every one to two windows, then a burst of records."""
    rng = random.Random(seed)
    window = timedelta(seconds=float(params.get("window_s", 86400.0)))
    warm = int(params.get("warmup_windows", 14))
    history = []
    t = T0
    while t < T0 + (warm + 3) * window:
        history.append(Record(t, "d", "?", {}, f"h{len(history)}"))
        t += window * rng.uniform(1.0, 2.0)
    burst_start = T0 + (warm + 4) * window
    gap = min(window / 40, timedelta(minutes=10))  # a burst: records minutes apart
    onset = [Record(burst_start + i * gap, "d", "?", {}, f"o{i}") for i in range(20)]
    return Incident(
        history=history,
        onset=onset,
        persist=lambda start, n: [Record(start + i * gap, "d", "?", {}, f"p{i}") for i in range(n)],
        recover=lambda start, n: [],  # the records stop
        step=gap,
    )


def _collision(params: Mapping[str, Any]) -> Incident:
    """The left side on record; then right-side records that collide with it."""
    left, right = params["left"], params["right"]
    window = timedelta(seconds=float(params["window_s"]))
    value = float(params.get("value", 1.0))
    lf, rf = left.get("field"), right.get("field")

    def rec(t: datetime, side: Mapping[str, Any], field: str | None, v: float, eid: str) -> Record:
        return Record(t, "d", side["event_type"], {field: v} if field else {}, eid)

    history = [rec(T0, left, lf, 2.0, "h0")]
    gap = window / 100
    bad = 2.0 * value * 3.0  # three times the limit
    onset = [rec(T0 + (i + 1) * gap, right, rf, bad, f"o{i}") for i in range(3)]

    def persist(start: datetime, n: int) -> list[Record]:
        """Both departments keep filing: the contradiction is renewed on every record."""
        return [
            rec(start + i * gap, left, lf, 2.0, f"p{i}")
            if i % 2 == 0
            else rec(start + i * gap, right, rf, bad, f"p{i}")
            for i in range(n)
        ]

    return Incident(
        history=history,
        onset=onset,
        persist=persist,
        recover=lambda start, n: [],  # the records stop
        step=gap,
    )


def until_alarm(det: Detector[Any], trigger: Trigger, inc: Incident) -> Iterator[tuple[Any, bool]]:
    """Learn the history, then run the onset the way detection does: yield (observation,
    fired) before learning each. (Warm-up false alarms in the history are not the incident.)"""
    for x in inc.history:
        det.learn_one(x)
    state: dict[str, Any] | None = None
    for x in inc.onset:
        score = det.score_one(x)
        state, fired = trigger.step(state, score, x.t, det.is_warm())
        yield x, fired
        det.learn_one(x)
