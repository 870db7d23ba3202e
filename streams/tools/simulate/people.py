"""The people of a district day: how they act on orders, and which deadlines they miss.

(order → notification → **people** → lifecycle update.) Pure decision models
and delay distributions, and the bookkeeping of what the people did; the
processes that read the field app and the stubs and write the updates are in
:mod:`streams.tools.day.people`.

- **Field workers** (grid workers, hotlines, departments' officers) sign an
  order, have it assigned, go on the scene (emergencies), resolve it and give
  feedback, each step after a log-normal delay (:data:`FIELD`, medians and
  spreads per SLA class). The tails are real: some are late, so breaches happen.
- **Parties concerned** get an SMS reminder and a voice call for an
  auto-disposable order and, with set probabilities (:data:`PARTY`), fix the
  fault after a log-normal delay (answering the call "handled"), ask for help
  ("needs help": a person takes over), or ignore it (no answer: the machine
  re-check finds it unfixed and escalates it).

:class:`Ledger` keeps every order the people saw and when each stage was met
by what they did (or by the machine), and says which (order, stage) pairs
must breach: their deadline is judged by the horizon and was not met by it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas import OrderAction

A = OrderAction


@dataclass(frozen=True)
class LogNormal:
    """A delay: log-normal with this median (seconds) and log-spread ``sigma``.

    >>> d = LogNormal(300, 0.5)
    >>> round(d.share_over(300), 3), round(d.share_over(300 * math.exp(0.5)), 3)
    (0.5, 0.159)
    """

    median_s: float
    sigma: float

    def draw(self, rng: random.Random) -> timedelta:
        return timedelta(seconds=self.median_s * math.exp(rng.gauss(0.0, self.sigma)))

    def share_over(self, seconds: float) -> float:
        """The share of delays longer than ``seconds``."""
        z = math.log(seconds / self.median_s) / self.sigma
        return 0.5 * math.erfc(z / math.sqrt(2))


#: field workers' delays per SLA class: from seeing the order (or the escalation) to
#: signing, then to assignment, to arrival on the scene (emergencies), to resolution,
#: to feedback. Emergency: ~4 % sign after 5 minutes, ~6 % arrive after 20.
FIELD: dict[str, dict[str, LogNormal]] = {
    "emergency": {
        "signed": LogNormal(90, 0.7),
        "assigned": LogNormal(40, 0.6),
        "arrived": LogNormal(660, 0.35),
        "resolved": LogNormal(2700, 0.7),
        "feedback": LogNormal(300, 0.5),
    },
    "non_emergency": {
        "signed": LogNormal(2400, 1.0),
        "assigned": LogNormal(600, 0.8),
        "resolved": LogNormal(18000, 0.8),
        "feedback": LogNormal(900, 0.7),
    },
}


@dataclass(frozen=True)
class PartyModel:
    """How a party concerned reacts to an auto-disposal reminder (SMS + voice call)."""

    fix: float = 0.90
    help: float = 0.04
    ignore: float = 0.06
    #: from the reminder to the fault fixed (the readings turn healthy from then on)
    fix_delay: LogNormal = LogNormal(720, 0.8)

    def decide(self, rng: random.Random) -> str:
        """``fix``, ``help`` or ``ignore``, with the set probabilities."""
        x = rng.random() * (self.fix + self.help + self.ignore)
        if x < self.fix:
            return "fix"
        return "help" if x < self.fix + self.help else "ignore"

    @property
    def answer(self) -> dict[str, str | None]:
        """What each decision says on the voice call (None: the call is not answered)."""
        return {"fix": "handled", "help": "needs_help", "ignore": None}


PARTY = PartyModel()


def field_steps(sla_class: str, on_scene: bool) -> list[tuple[OrderAction, str]]:
    """The lifecycle updates a field worker sends, each with its delay's name."""
    steps = [(A.SIGNED, "signed"), (A.ASSIGNED, "assigned")]
    if on_scene:
        steps.append((A.ARRIVED, "arrived"))
    return [*steps, (A.RESOLVED, "resolved"), (A.FEEDBACK, "feedback")]


def field_plan(
    sla_class: str, seen: datetime, rng: random.Random, on_scene: bool | None = None
) -> list[tuple[datetime, OrderAction]]:
    """When a field worker who saw an order at ``seen`` sends each update.

    >>> from datetime import UTC
    >>> plan = field_plan("emergency", datetime(2026, 3, 2, tzinfo=UTC), random.Random(1))
    >>> [a.value for _, a in plan]
    ['signed', 'assigned', 'arrived', 'resolved', 'feedback']
    >>> all(a[0] < b[0] for a, b in zip(plan, plan[1:]))
    True
    """
    delays = FIELD[sla_class]
    scene = (sla_class == "emergency") if on_scene is None else on_scene
    out, t = [], seen
    for action, name in field_steps(sla_class, scene):
        t = t + delays[name].draw(rng)
        out.append((t.replace(microsecond=(t.microsecond // 1000) * 1000), action))
    return out


#: the action that meets each SLA stage (streams.core.orders.lifecycle: signed *and* assigned;
#: on the scene; resolved *with feedback*)
MEETS = {"signed": A.ASSIGNED, "arrived": A.ARRIVED, "resolved": A.FEEDBACK}


@dataclass
class Seen:
    """What the people know about one order."""

    order_id: str
    created: datetime
    deadlines: Mapping[str, datetime]
    auto: bool
    #: action → when the people sent it (event time of the update)
    done: dict[OrderAction, datetime] = field(default_factory=dict)
    #: an auto-disposal order a person had to take over (escalation SMS, help asked)
    escalated: bool = False


@dataclass
class Ledger:
    """Orders the people saw, what they did, and the breaches that must follow."""

    day_start: datetime
    day_end: datetime
    orders: dict[str, Seen] = field(default_factory=dict)

    def saw(
        self, order_id: str, created: datetime, deadlines: Mapping[str, datetime], auto: bool
    ) -> bool:
        """Remember an order; False if it was already known."""
        if order_id in self.orders:
            return False
        self.orders[order_id] = Seen(order_id, created, dict(deadlines), auto)
        return True

    def did(self, order_id: str, action: OrderAction, at: datetime) -> None:
        self.orders[order_id].done.setdefault(action, at)

    def escalated(self, order_id: str) -> None:
        if order_id in self.orders:
            self.orders[order_id].escalated = True

    def met_at(self, o: Seen, stage: str) -> datetime | None:
        """When the people met ``stage``; an auto-disposal order nobody had to take over
        was met by the machine at its re-check, before any deadline."""
        if o.auto and not o.escalated:
            return o.created
        return o.done.get(MEETS[stage])

    def expected(self, horizon: datetime) -> list[tuple[str, str]]:
        """(order, stage) pairs that must be on the breach topic: orders created in the
        day whose stage deadline is at or before ``horizon`` (the last instant judged)
        and was not met by it."""
        out = []
        for o in self.orders.values():
            if not self.day_start <= o.created < self.day_end:
                continue
            for stage, deadline in o.deadlines.items():
                if deadline > horizon:
                    continue
                met = self.met_at(o, stage)
                if met is None or met > deadline:
                    out.append((o.order_id, stage))
        return sorted(out)


def late_share(delays: Iterable[LogNormal], limit_s: float, rng: random.Random, n: int) -> float:
    """Monte-Carlo share of sums of ``delays`` over ``limit_s`` (for the README's table)."""
    ds = list(delays)
    over = sum(sum(d.draw(rng).total_seconds() for d in ds) > limit_s for _ in range(n))
    return over / n


__all__ = ["FIELD", "MEETS", "PARTY", "Ledger", "LogNormal", "PartyModel", "field_plan"]
