"""The dispatch order's lifecycle: a state machine, its SLA stages and the re-check.

(alert → **order** → notification.) One :class:`OrderRecord` per order lives in
a changelog-backed table keyed by order id; everything here is pure and
returns a new record plus what to publish, so the Faust adapter only stores
and emits.

States::

    auto_disposing ──recheck: recovered──► auto_resolved
         │  └──────recheck: not recovered─► open (escalated to a person)
         └──signed (a person took over)──┐
    open ──signed──► signed ──assigned──► assigned ──arrived──► arrived
                                            └───────resolved──────┴──► resolved ──feedback──► closed

SLA stages (deadlines from :mod:`streams.core.orders.sla`) are met when the order
reaches a state: ``signed`` (signed *and* assigned) at ``assigned``;
``arrived`` at ``arrived``; ``resolved`` (resolved *with feedback*) at
``closed``. Later states meet earlier stages; ``auto_resolved`` meets all. A
stage breaches when its deadline has passed and it was not met by then; each
(order, stage) breach is reported once (``breached``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas import (
    DispatchOrder,
    DispatchUpdate,
    OrderAction,
    OrderState,
    OrderStatus,
    SlaBreach,
    SlaClass,
)
from streams.core.shared.ids import stable_id

S = OrderState
A = OrderAction

#: action → states it may be applied in → the state it leads to
TRANSITIONS: MappingProxyType[OrderAction, tuple[frozenset[OrderState], OrderState]] = (
    MappingProxyType(
        {
            A.SIGNED: (frozenset({S.OPEN, S.AUTO_DISPOSING}), S.SIGNED),
            A.ASSIGNED: (frozenset({S.SIGNED}), S.ASSIGNED),
            A.ARRIVED: (frozenset({S.ASSIGNED}), S.ARRIVED),
            A.RESOLVED: (frozenset({S.ASSIGNED, S.ARRIVED}), S.RESOLVED),
            A.FEEDBACK: (frozenset({S.RESOLVED}), S.CLOSED),
            A.HELP_REQUESTED: (frozenset({S.AUTO_DISPOSING}), S.OPEN),
        }
    )
)

_ORDER = [S.AUTO_DISPOSING, S.OPEN, S.SIGNED, S.ASSIGNED, S.ARRIVED, S.RESOLVED, S.CLOSED]
#: stage → the earliest state that meets it
STAGE_MET_AT: MappingProxyType[str, OrderState] = MappingProxyType(
    {"signed": S.ASSIGNED, "arrived": S.ARRIVED, "resolved": S.CLOSED}
)
TERMINAL = frozenset({S.CLOSED, S.AUTO_RESOLVED})
#: update ids remembered per order, to ignore replays (an order sees few updates)
MAX_SEEN_UPDATES = 32


def meets(state: OrderState, stage: str) -> bool:
    """Whether an order in ``state`` has met ``stage``.

    >>> meets(OrderState.SIGNED, "signed"), meets(OrderState.ASSIGNED, "signed")
    (False, True)
    """
    if state is S.AUTO_RESOLVED:
        return True
    return _ORDER.index(state) >= _ORDER.index(STAGE_MET_AT[stage])


class OrderRecord(BaseModel):
    """What the SLA agent keeps per order (JSON in the table, never pickle)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    alert_id: str
    partition: int = Field(ge=0, description="Partition of the order: which ticks scan it.")
    sla_class: SlaClass
    state: OrderState
    deadlines: dict[str, AwareDatetime]
    escalate_to: str
    receiver: str
    channels: list[str]
    #: the receiver's role, the module's department and the town: carried onto breaches
    receiver_role: str | None = None
    department: str | None = None
    town: str | None = None
    met_at: dict[str, AwareDatetime] = Field(default_factory=dict)
    breached: list[str] = Field(default_factory=list)
    seen_updates: list[str] = Field(default_factory=list)
    recheck_at: AwareDatetime | None = None
    sensor_recovered: dict[str, bool] = Field(default_factory=dict)
    escalated: bool = False

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class Step:
    """A new record (or ``None``: unchanged) and the events it publishes."""

    record: OrderRecord | None
    statuses: list[OrderStatus] = field(default_factory=list)
    breaches: list[SlaBreach] = field(default_factory=list)
    escalate: bool = False
    error: tuple[str, str] | None = None  # (dead-letter reason value, detail)


def status(
    rec: OrderRecord, new: OrderState, prev: OrderState | None, cause: str, now: datetime
) -> OrderStatus:
    return OrderStatus(
        status_id=stable_id("status", rec.order_id, new.value),
        order_id=rec.order_id,
        alert_id=rec.alert_id,
        state=new,
        previous=prev,
        cause=cause,
        event_time=now,
    )


def _met(rec: OrderRecord, state: OrderState, now: datetime) -> dict[str, datetime]:
    met = dict(rec.met_at)
    for stage in rec.deadlines:
        if stage not in met and meets(state, stage):
            met[stage] = now
    return met


def open_order(
    order: DispatchOrder, partition: int, now: datetime, watched: Sequence[str] | None = None
) -> Step:
    """Start tracking a new order.

    ``watched``: the sensors or place whose re-check verdicts decide an
    auto-disposable order (default: the plan's sensors); none is recovered yet.
    """
    auto = order.auto_disposal
    if auto is not None and not watched:
        watched = auto.sensor_ids
    rec = OrderRecord(
        order_id=order.order_id,
        alert_id=order.alert_id,
        partition=partition,
        sla_class=order.sla_class,
        state=S.AUTO_DISPOSING if auto else S.OPEN,
        deadlines=dict(order.deadlines),
        escalate_to=order.escalate_to,
        receiver=order.receiver,
        channels=[c.value for c in order.channels],
        receiver_role=order.assignee_role,
        department=order.department,
        town=order.town,
        recheck_at=auto.recheck_at if auto else None,
        sensor_recovered={s: False for s in watched or ()} if auto else {},
    )
    return Step(rec, statuses=[status(rec, rec.state, None, "created", now)])


def apply_update(rec: OrderRecord | None, update: DispatchUpdate, now: datetime) -> Step:
    """A lifecycle update from a field app or case system.

    A stage counts as met at the update's own event time (when the worker
    signed, arrived, ...), capped at ``now``; its status carries that time too.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> rec = OrderRecord(order_id="o1", alert_id="a1", partition=0, sla_class="emergency",
    ...                   state="open", deadlines={}, escalate_to="x", receiver="y",
    ...                   channels=["sms"])
    >>> u = DispatchUpdate(update_id="u1", order_id="o1", action=OrderAction.ARRIVED,
    ...                    actor="w", event_time=t)
    >>> apply_update(rec, u, t).error
    ('invalid_transition', "order o1 is open: 'arrived' is allowed only when assigned")
    """
    if rec is None:
        return Step(None, error=("unknown_order", f"no order {update.order_id} was dispatched"))
    if update.update_id in rec.seen_updates:
        return Step(None)  # a replay of an update already applied
    if update.action is A.HELP_REQUESTED and rec.state is not S.AUTO_DISPOSING:
        return Step(None)  # a person already has it (or it is closed): nothing to hand over
    allowed, target = TRANSITIONS[update.action]
    if rec.state not in allowed:
        names = " or ".join(sorted(s.value for s in allowed))
        return Step(
            None,
            error=(
                "invalid_transition",
                f"order {rec.order_id} is {rec.state.value}: "
                f"{update.action.value!r} is allowed only when {names}",
            ),
        )
    seen = [*rec.seen_updates, update.update_id][-MAX_SEEN_UPDATES:]
    help_requested = update.action is A.HELP_REQUESTED
    # When it happened in the field, not when the pipeline got to it: a lagging
    # pipeline must not make a punctual worker late (never later than now, though).
    when = min(update.event_time, now)
    new = rec.model_copy(
        update={
            "state": target,
            "met_at": _met(rec, target, when),
            "seen_updates": seen,
            "recheck_at": None,  # a person has it now: the machine stops
            "escalated": rec.escalated or help_requested,
        }
    )
    return Step(
        new,
        statuses=[status(new, target, rec.state, update.action.value, when)],
        escalate=help_requested,
    )


def sensor_health(rec: OrderRecord | None, sensor_id: str, recovered: bool) -> OrderRecord | None:
    """Remember the latest re-check verdict for a watched sensor or place (``None``: no change)."""
    if rec is None or rec.state is not S.AUTO_DISPOSING:
        return None
    if sensor_id not in rec.sensor_recovered:
        return None  # not something this order watches
    if rec.sensor_recovered.get(sensor_id) == recovered:
        return None
    return rec.model_copy(
        update={"sensor_recovered": {**rec.sensor_recovered, sensor_id: recovered}}
    )


def on_tick(rec: OrderRecord, now: datetime) -> Step:
    """Due re-check and due breaches at ``now``; ``record`` is ``None`` if nothing changed.

    Breaches are returned before the record that marks them ``breached``: the
    caller publishes them, awaits delivery, then stores the record.
    """
    changed = False
    statuses: list[OrderStatus] = []
    escalate = False
    state = rec.state
    met = rec.met_at
    escalated = rec.escalated
    if state is S.AUTO_DISPOSING and rec.recheck_at is not None and now >= rec.recheck_at:
        recovered = bool(rec.sensor_recovered) and all(rec.sensor_recovered.values())
        state = S.AUTO_RESOLVED if recovered else S.OPEN
        escalated = not recovered
        escalate = not recovered
        met = _met(rec, state, now)
        changed = True
        statuses.append(
            status(
                rec,
                state,
                S.AUTO_DISPOSING,
                "recheck",
                now,
            ).model_copy(
                update={
                    "detail": "back to normal in its detector's re-check: closed by the machine"
                    if recovered
                    else "not back to normal in its detector's re-check: escalated to a person"
                }
            )
        )
    breaches = []
    for stage, deadline in rec.deadlines.items():
        if stage in rec.breached or now < deadline:
            continue
        met_when = met.get(stage)
        if met_when is not None and met_when <= deadline:
            continue
        breaches.append(
            SlaBreach(
                breach_id=breach_id(rec.order_id, stage),
                order_id=rec.order_id,
                alert_id=rec.alert_id,
                stage=stage,
                deadline=deadline,
                escalate_to=rec.escalate_to,
                receiver=rec.receiver,
                receiver_role=rec.receiver_role,
                department=rec.department,
                town=rec.town,
                event_time=now,
            )
        )
    if breaches:
        changed = True
    if not changed:
        return Step(None)
    new = rec.model_copy(
        update={
            "state": state,
            "met_at": met,
            "escalated": escalated,
            "recheck_at": None if state is not S.AUTO_DISPOSING else rec.recheck_at,
            "breached": [*rec.breached, *(b.stage for b in breaches)],
        }
    )
    return Step(new, statuses=statuses, breaches=breaches, escalate=escalate)


def next_due(rec: OrderRecord) -> datetime | None:
    """When :func:`on_tick` next has work for ``rec``; ``None``: never again.

    ``on_tick(rec, now).record`` is ``None`` exactly when ``now`` is before this
    (or it is ``None``): the earliest of a pending re-check and the deadlines of
    stages neither breached nor met in time. A tick needs to look at no other
    order.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> rec = OrderRecord(order_id="o1", alert_id="a1", partition=0, sla_class="emergency",
    ...                   state="open", deadlines={"signed": t, "resolved": t.replace(day=2)},
    ...                   escalate_to="x", receiver="y", channels=["sms"], breached=["signed"])
    >>> next_due(rec) == t.replace(day=2)
    True
    """
    times = []
    if rec.state is S.AUTO_DISPOSING and rec.recheck_at is not None:
        times.append(rec.recheck_at)
    for stage, deadline in rec.deadlines.items():
        if stage in rec.breached:
            continue
        met_when = rec.met_at.get(stage)
        if met_when is not None and met_when <= deadline:
            continue
        times.append(deadline)
    return min(times, default=None)


def breach_id(order_id: str, stage: str) -> str:
    """One id per (order, stage): the same breach can never have two identities."""
    return stable_id("breach", order_id, stage)
