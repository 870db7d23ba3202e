"""Automatic disposal's machine re-check: has the stream recovered, in its detector's judgement?

(reading / department record → signal → alert → **order** re-check.) When the
trigger of a risk point with ``auto_dispose: true`` fires,
:class:`streams.core.signals.detect.Detection` begins a *check* beside that key's
detector state: a copy of the detector as it was when it raised the alarm. The
copy judges every later observation of the key (later by event time) with
:meth:`~streams.core.signals.detectors.base.Detector.recheck_one`: the detector's own
re-check score against the trigger's clear level
(:meth:`~streams.core.signals.trigger.Trigger.cleared`), from a copy whose picture of
normal learns only what it judged healthy, so it never learns the incident. So the
rule is the same for every detector kind, and the verdict is:

- a **sensor** has recovered after N healthy readings in a row, or once it
  has been healthy for T seconds: its latest reading healthy and at least T
  after the last unhealthy one (or the alarm), so a device that reports on a
  heartbeat of tens of minutes, and never left it because its alarm was the
  detector's false alarm, can pass with the one reading it sends (N and T from
  the watch request: ``auto_disposal.healthy_readings`` and ``healthy_for_s``
  in the routes; no T: the readings alone count);
- a **place** (a risk point fed by department records, keyed by place) has
  recovered while no record with an event time in the second half of the
  re-check delay was judged unhealthy (:func:`quiet_from`): the party concerned,
  told at the order's creation, has the first half to act, and then the
  place's records stopped, or fell back to what its detector expects there.
  (Records go on while the hazard does: complaints about a noisy site come
  until it stops, so a quiet window from the creation on would call every
  party who needs a few minutes a failure; the sensor rule likewise asks for
  the *latest* readings to be healthy, not every one since the creation.)

An order's watch request attaches to the check of its alarm (``since``), and
the verdict goes back keyed by order id (:class:`schemas.SensorHealth`) when it
attaches recovered and whenever it changes. Judging starts at the alarm, not
at the watch, so what happened while the order was on its way counts. Checks
are plain JSON inside the key's detector state (no second table, no second
decode per observation); a check ends when its last watch ends, or, never
watched, two hours of event time after its alarm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from schemas import DispatchOrder, DisposalWatch, PlaceWatch, SensorHealth
from streams.core.shared.ids import stable_id
from streams.core.signals.detectors import Detector, Point, Record
from streams.core.signals.trigger import Trigger

#: One check, as stored (times in epoch seconds): {"t": alarm, "d": detector state,
#: "n": healthy streak, "xt": event time of the latest unhealthy observation (or None),
#: "lt": event time of the latest judged observation, "e": its id, "a": ever watched,
#: "w": {order id: {"k": readings needed, "f": or healthy for (seconds, or None),
#: "q": quiet from, "u": until, "r": verdict reported}}}
Check = dict[str, Any]
Watched = Literal["sensor", "place"]

#: Checks kept per key and risk point (a stream that keeps re-alarming keeps the newest).
MAX_CHECKS = 4
#: A check nobody watches ends this long after its alarm (event time). An order's watch
#: comes within the pipeline's latency (a few hops); one that comes later finds no check
#: and its order goes to a person. (Each running check costs about one detector update
#: per observation of its key, so unwatched ones, e.g. of alerts not auto-dispatched,
#: must not linger.)
UNWATCHED_S = 2 * 3600.0
#: Alarm times within this of each other are the same alarm (they went through JSON).
_SAME_ALARM_S = 1e-3


@dataclass(frozen=True)
class Judge:
    """How one risk point judges recovery: its detector (kind, parameters, seed) and trigger."""

    cls: type[Detector[Any]]
    params: Mapping[str, Any]
    seed: int
    trigger: Trigger

    @property
    def watched(self) -> Watched:
        return "sensor" if self.cls.input == "point" else "place"

    def detector(self, state: Mapping[str, Any]) -> Detector[Any]:
        return self.cls.restore(self.params, state, self.seed)

    def recovered(self, check: Check, watch: Mapping[str, Any]) -> bool:
        """The verdict of ``check`` for one watch.

        A sensor: ``k`` healthy readings in a row, or (``f`` set) at least one,
        the latest ``f`` seconds or more after the last unhealthy observation
        (or the alarm). A place: no unhealthy record with an event time at or
        after ``q`` (the order's creation).
        """
        if self.watched == "place":
            bad = check["xt"]
            return bad is None or float(bad) < float(watch["q"])
        streak = int(check["n"])
        if streak >= int(watch["k"]):
            return True
        healthy_for = watch.get("f")
        if not healthy_for or streak < 1 or check.get("lt") is None:
            return False
        since = float(check["xt"] if check["xt"] is not None else check["t"])
        return float(check["lt"]) - since >= float(healthy_for)


def begin(
    checks: list[Check] | None, judge: Judge, reference: Mapping[str, Any], x: Point | Record
) -> list[Check]:
    """Checks after an alarm raised on ``x`` by a detector whose state was ``reference``.

    ``reference`` is the state that scored ``x``, before the detector learnt it.
    The alarm's own observation enters the check's running statistics but is
    not judged. A second alarm at the same event time (a replay) begins nothing.
    """
    t = x.t.timestamp()
    old = list(checks or [])
    if any(abs(float(c["t"]) - t) < _SAME_ALARM_S for c in old):
        return old
    det = judge.detector(reference)
    det.recheck_learn(x, False)  # the alarm's own observation: counted, never learnt
    new: Check = {"t": t, "d": det.state(), "n": 0, "xt": None, "e": None, "a": False, "w": {}}
    kept = [*old, new]
    while len(kept) > MAX_CHECKS:  # drop the oldest, unwatched ones first
        unwatched = [c for c in kept if not c["w"]]
        kept.remove(unwatched[0] if unwatched else kept[0])
    return kept


def observe(
    checks: list[Check],
    judge: Judge,
    x: Point | Record,
    key: str,
    now: datetime,
) -> tuple[list[Check], list[SensorHealth]]:
    """Judge ``x`` (an observation of ``key``) in every check it comes after.

    Returns the checks still running and the verdict changes for their
    watches. Watches past their ``until`` (processing clock: their order has
    been decided) are dropped, and a check whose last watch ended ends too.
    """
    t = x.t.timestamp()
    out: list[Check] = []
    events: list[SensorHealth] = []
    for check in checks:
        watches = {o: w for o, w in check["w"].items() if now.timestamp() <= float(w["u"])}
        if check["a"] and not watches:
            continue  # every order it served has been decided
        if not check["a"] and t - float(check["t"]) > UNWATCHED_S:
            continue  # nobody will ask any more
        if t <= float(check["t"]):
            out.append({**check, "w": watches})  # late: from before the alarm, not judged
            continue
        det = judge.detector(check["d"])
        healthy = det.recheck_one(x, judge.trigger)
        new: Check = {
            **check,
            "d": det.state(),
            "n": int(check["n"]) + 1 if healthy else 0,
            "xt": check["xt"] if healthy else max(t, float(check["xt"] or t)),
            "lt": max(t, float(check.get("lt") or t)),
            "e": x.event_id or None,
        }
        reported = {}
        for order_id, w in watches.items():
            verdict = judge.recovered(new, w)
            if verdict != w["r"]:
                events.append(_health(order_id, key, judge.watched, verdict, new, now))
            reported[order_id] = {**w, "r": verdict}
        new["w"] = reported
        out.append(new)
    return out, events


def attach(
    checks: list[Check] | None,
    judge: Judge,
    order_id: str,
    key: str,
    needed: int,
    quiet_from: datetime,
    until: datetime,
    since: datetime | None,
    now: datetime,
    healthy_for: float | None = None,
) -> tuple[list[Check], list[SensorHealth]]:
    """Attach an order's watch to the check of its alarm (``since``; ``None``: the newest).

    ``needed`` healthy readings in a row (or, ``healthy_for`` set, healthy for
    that many seconds) decide for a sensor; no unhealthy record from
    ``quiet_from`` on decides for a place.

    Idempotent: a replayed request changes nothing. With no check to attach to
    (no alarm state: e.g. the state was lost) nothing is attached, so the
    order is never found recovered and escalates to a person at its re-check.
    A watch that attaches already recovered is reported at once.
    """
    checks = list(checks or [])
    if not checks or now > until:
        return checks, []
    if since is None:
        i = max(range(len(checks)), key=lambda j: float(checks[j]["t"]))
    else:
        s = since.timestamp()
        found = [j for j, c in enumerate(checks) if abs(float(c["t"]) - s) < _SAME_ALARM_S]
        if not found:
            return checks, []
        i = found[0]
    check = checks[i]
    if order_id in check["w"]:
        return checks, []
    watch = {
        "k": needed,
        "f": healthy_for,
        "q": quiet_from.timestamp(),
        "u": until.timestamp(),
        "r": False,
    }
    verdict = judge.recovered(check, watch)
    watch["r"] = verdict
    checks[i] = {**check, "a": True, "w": {**check["w"], order_id: watch}}
    events = [_health(order_id, key, judge.watched, True, check, now)] if verdict else []
    return checks, events


def _health(
    order_id: str, key: str, watched: Watched, recovered: bool, check: Check, now: datetime
) -> SensorHealth:
    reading_id = check["e"]
    return SensorHealth(
        health_id=stable_id("health", order_id, key, reading_id or "watch", recovered),
        order_id=order_id,
        sensor_id=key,
        watched=watched,
        recovered=recovered,
        healthy_streak=int(check["n"]),
        reading_id=reading_id,
        event_time=now,
    )


def quiet_from(order: DispatchOrder) -> datetime:
    """From when a watched place's records must be quiet: the second half of the order's
    re-check delay (the first half is the party's to act in).

    >>> from datetime import UTC, timedelta
    >>> from schemas import AutoDisposalPlan, SlaClass
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> plan = AutoDisposalPlan(party_concerned="p", sensor_ids=["site-9"], risk_point="rp",
    ...                         healthy_readings=3, recheck_at=t + timedelta(hours=1))
    >>> order = DispatchOrder(order_id="o1", alert_id="a1", route="r", receiver="x",
    ...                       assignee_role="grid_worker", channels=[], summary="s",
    ...                       sla_class=SlaClass.NON_EMERGENCY, deadlines={}, escalate_to="x",
    ...                       auto_disposal=plan, event_time=t)
    >>> str(quiet_from(order) - t)
    '0:30:00'
    """
    plan = order.auto_disposal
    if plan is None or plan.recheck_at <= order.event_time:
        return order.event_time
    return order.event_time + (plan.recheck_at - order.event_time) / 2


def watch_requests(
    order: DispatchOrder, fed_by_records: bool, now: datetime
) -> list[DisposalWatch | PlaceWatch]:
    """What the order side asks the watched side for an auto-disposable order.

    A risk point fed by sensors watches each sensor of the plan; one fed by
    department records watches the alert's place, where its detector state lives.

    >>> from datetime import UTC
    >>> from schemas import AutoDisposalPlan, SlaClass
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> plan = AutoDisposalPlan(party_concerned="p", sensor_ids=["flat-9"], risk_point="rp",
    ...                         healthy_readings=3, recheck_at=t, place_id="site-9", since=t)
    >>> order = DispatchOrder(order_id="o1", alert_id="a1", route="r", receiver="x",
    ...                       assignee_role="grid_worker", channels=[], summary="s",
    ...                       sla_class=SlaClass.EMERGENCY, deadlines={}, escalate_to="x",
    ...                       auto_disposal=plan, event_time=t)
    >>> [type(w).__name__ for w in watch_requests(order, False, t)]
    ['DisposalWatch']
    >>> [(type(w).__name__, w.place_id) for w in watch_requests(order, True, t)]
    [('PlaceWatch', 'site-9')]
    """
    plan = order.auto_disposal
    if plan is None:
        return []
    if fed_by_records:
        place = plan.place_id or plan.sensor_ids[0]
        return [
            PlaceWatch(
                watch_id=stable_id("watch", order.order_id, place),
                place_id=place,
                order_id=order.order_id,
                risk_point=plan.risk_point,
                quiet_from=quiet_from(order),
                until=plan.recheck_at,
                since=plan.since,
                event_time=now,
            )
        ]
    return [
        DisposalWatch(
            watch_id=stable_id("watch", order.order_id, sensor),
            sensor_id=sensor,
            order_id=order.order_id,
            risk_point=plan.risk_point,
            healthy_readings=plan.healthy_readings,
            healthy_for_s=plan.healthy_for_s,
            until=plan.recheck_at,
            since=plan.since,
            event_time=now,
        )
        for sensor in plan.sensor_ids
    ]


def watched_key(req: DisposalWatch | PlaceWatch) -> str:
    """The sensor or place a watch request is about (what its verdicts are keyed by)."""
    return req.place_id if isinstance(req, PlaceWatch) else req.sensor_id
