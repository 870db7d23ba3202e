"""The people of a district day, acting on the real topics and the stubs.

(order → notification → **people** → lifecycle update.) They learn what real
parties learn, where real parties learn it:

- **field workers** read the field app: the dispatch orders topic, and the
  alert each order is for (its place and sensors, as the app shows them); an
  order handed to a person after auto-disposal reaches them as the escalation
  SMS ("... it is yours now"), read from the SMS stub's list. They sign,
  assign, arrive, resolve and give feedback on ``yujing.dispatch-updates.v1``
  after the delays of :data:`streams.tools.simulate.people.FIELD`; resolving fixes the
  hazard (the readings turn healthy, the complaints stop);
- **parties concerned** read their SMS reminder and their voice call from the
  stubs' lists (the order id is in both) and, with the probabilities of
  :data:`streams.tools.simulate.people.PARTY`, fix it (and answer the call "handled"),
  ask for help (answer "needs help") or ignore it (the call rings out).

Thin: the decisions, the delays and the bookkeeping are pure
(:mod:`streams.tools.simulate.people`); this module reads, waits and writes. Every
update and fix is stamped with the simulated clock the workers run on.
"""

from __future__ import annotations

import heapq
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from schemas import Alert, AlertKind, DispatchOrder, DispatchUpdate, Event, OrderAction
from streams.core.shared.ids import stable_id
from streams.tools.simulate.live import LiveWorld
from streams.tools.simulate.people import PARTY, Ledger, PartyModel, field_plan

log = logging.getLogger(__name__)

_REMINDER = re.compile(r"^yujing reminder, order (\S+):")
_CALL = re.compile(r"^yujing call about order (\S+):")
_YOURS = re.compile(r"^yujing order (\S+): .* it is yours now")

Send = Callable[[Event], Awaitable[None]]


@dataclass
class People:
    """Everyone who acts on orders in the simulated district."""

    clock: Callable[[], datetime]
    ledger: Ledger
    world: LiveWorld
    send: Send
    sms_url: str
    voice_url: str
    seed: int = 0
    party: PartyModel = PARTY
    orders: dict[str, DispatchOrder] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._todo: list[tuple[datetime, int, str, Any]] = []
        self._seq = 0
        self._sms_seen = 0
        self._calls_seen = 0
        self._escalated: set[str] = set()
        self._early: dict[str, list[tuple[str, Any]]] = {}  # stub news before its order
        self._answers: dict[str, str] = {}  # order id → the call to answer

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _at(self, t: datetime, what: str, arg: Any) -> None:
        self._seq += 1
        heapq.heappush(self._todo, (t, self._seq, what, arg))

    def pending(self) -> int:
        return len(self._todo)

    def next_time(self) -> datetime | None:
        return self._todo[0][0] if self._todo else None

    # -- the field app ------------------------------------------------------------------

    def on_alert(self, alert: Alert) -> None:
        self.alerts[alert.alert_id] = alert

    def on_order(self, order: DispatchOrder) -> None:
        """A new order in the field app: a person's order is worked at once."""
        auto = order.auto_disposal is not None
        if not self.ledger.saw(order.order_id, order.event_time, order.deadlines, auto):
            return
        self.orders[order.order_id] = order
        self._count("orders_auto" if auto else "orders_person")
        if not auto:
            self._work(order, self.clock())
        for kind, arg in self._early.pop(order.order_id, []):
            self._stub_news(kind, order.order_id, arg)

    def _work(self, order: DispatchOrder, seen: datetime) -> None:
        rng = random.Random(f"yujing-people:{self.seed}:{order.order_id}:field")
        for t, action in field_plan(order.sla_class.value, seen, rng):
            self._at(t, "update", (order.order_id, action))

    # -- the stubs ----------------------------------------------------------------------

    async def poll_stubs(self, session: aiohttp.ClientSession) -> None:
        """New SMS and calls since the last poll: reminders, escalations, calls ringing."""
        sms = await _get(session, f"{self.sms_url}/v1/messages?after={self._sms_seen}")
        if sms is not None:
            self._sms_seen = int(sms.get("next", self._sms_seen))
            for m in sms.get("messages", []):
                text = str(m.get("text", ""))
                if hit := _REMINDER.match(text):
                    self._news("reminder", hit.group(1), None)
                elif hit := _YOURS.match(text):
                    self._news("yours", hit.group(1), None)
        calls = await _get(session, f"{self.voice_url}/v1/calls?after={self._calls_seen}")
        if calls is not None:
            self._calls_seen = int(calls.get("next", self._calls_seen))
            for c in calls.get("calls", []):
                if hit := _CALL.match(str(c.get("script", ""))):
                    self._news("call", hit.group(1), c.get("call_id"))
        for order_id, call_id in list(self._answers.items()):
            await self._answer(session, order_id, call_id)

    def _news(self, kind: str, order_id: str, arg: Any) -> None:
        if order_id not in self.orders:  # the stub was quicker than the field app
            self._early.setdefault(order_id, []).append((kind, arg))
            return
        self._stub_news(kind, order_id, arg)

    def _stub_news(self, kind: str, order_id: str, arg: Any) -> None:
        order = self.orders[order_id]
        if kind == "yours":
            if order_id not in self._escalated:
                self._escalated.add(order_id)
                self.ledger.escalated(order_id)
                self._count("escalated_to_person")
                self._work(order, self.clock())
            return
        decision = self._decide(order)
        if kind == "call" and arg and self.party.answer[decision] is not None:
            self._answers[order_id] = str(arg)

    def _decide(self, order: DispatchOrder) -> str:
        """The party's decision, once per order, at the first reminder or call."""
        if order.order_id in self.decisions:
            return self.decisions[order.order_id]
        rng = random.Random(f"yujing-people:{self.seed}:{order.order_id}:party")
        decision = self.party.decide(rng)
        self.decisions[order.order_id] = decision
        self._count(f"party_{decision}")
        if decision == "fix":
            self._at(self.clock() + self.party.fix_delay.draw(rng), "fix", order.order_id)
        return decision

    async def _answer(self, session: aiohttp.ClientSession, order_id: str, call_id: str) -> None:
        answer = self.party.answer[self.decisions[order_id]]
        self._answers.pop(order_id, None)
        url = f"{self.voice_url}/v1/calls/{call_id}/answer"
        try:
            async with session.post(url, json={"outcome": answer}) as resp:
                if resp.status == 200:
                    self._count(f"answered_{answer}")
                else:
                    self._count("answer_too_late")
        except (aiohttp.ClientError, TimeoutError) as err:
            log.warning("answering call %s: %s", call_id, err)

    # -- doing --------------------------------------------------------------------------

    async def run_due(self, now: datetime) -> int:
        """Carry out everything due by ``now``; how many things were done."""
        n = 0
        while self._todo and self._todo[0][0] <= now:
            t, _, what, arg = heapq.heappop(self._todo)
            if what == "update":
                order_id, action = arg
                await self._update(order_id, action, t)
            elif what == "fix":
                self._fix_auto(arg, t)
            n += 1
        return n

    async def _update(self, order_id: str, action: OrderAction, t: datetime) -> None:
        order = self.orders[order_id]
        await self.send(
            DispatchUpdate(
                update_id=stable_id("upd", order_id, action.value),
                order_id=order_id,
                action=action,
                actor=order.receiver,
                note=f"{action.value} in the field app",
                event_time=t,
            )
        )
        self.ledger.did(order_id, action, t)
        self._count(f"update_{action.value}")
        if action is OrderAction.RESOLVED:
            self._fix_alert(order.alert_id, t)

    def _fix_auto(self, order_id: str, t: datetime) -> None:
        plan = self.orders[order_id].auto_disposal
        if plan is None:
            return
        fixed = [self.world.fix_sensor(s, t) for s in plan.sensor_ids]
        if plan.place_id:
            fixed.append(self.world.fix_place(plan.place_id, t))
        self._count("fixed_by_party" if any(fixed) else "fixed_nothing_left")

    def _fix_alert(self, alert_id: str, t: datetime) -> None:
        """A field worker resolved a single alert's hazard on the scene."""
        alert = self.alerts.get(alert_id)
        if alert is None or alert.kind is not AlertKind.SINGLE:
            return
        for key in alert.source_keys:
            if key in self.world.devices:
                self.world.fix_sensor(key, t)
            else:
                self.world.fix_place(key, t)


async def _get(session: aiohttp.ClientSession, url: str) -> dict[str, Any] | None:
    try:
        async with session.get(url) as resp:
            body = await resp.json(content_type=None)
            return body if resp.status == 200 and isinstance(body, dict) else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        log.warning("polling %s: %s", url, err)
        return None


__all__ = ["People"]
