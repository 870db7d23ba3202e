"""What the operator console shows of dispatch orders: stage, next deadline, breaches.

(alert → order → **operator view**.) Pure: reads the order tracker's records (one
JSON :class:`~streams.core.orders.lifecycle.OrderRecord` per order id, in the
``orders`` changelog table; :mod:`streams.core.orders.tracker`) and turns them into
what a person reads: the stage due next and its deadline (ISO 8601, UTC), the
stages already breached, the state. An alert's order is found by its id
(:func:`~streams.core.orders.create.order_id_for`: one order per alert). Receivers
are shown masked (``grid.***.06``): the view carries no phone number and no full
party name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from streams.core.notifications.plan import mask_phone
from streams.core.orders.create import order_id_for
from streams.core.orders.lifecycle import TERMINAL, OrderRecord

Json = dict[str, Any]
#: At most this many orders in one answer.
MAX_ORDERS = 1000
#: The SLA stages in the order an order meets them.
STAGES = ("signed", "arrived", "resolved")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,}$")
_DIGITS = re.compile(r"[0-9]{5,}")
_TERMINAL = frozenset(s.value for s in TERMINAL)


def mask_receiver(name: str) -> str:
    """A receiver name with its middle hidden (a number, should one come, masked).

    >>> mask_receiver("grid.cell.linping.c01.06"), mask_receiver("town.linping")
    ('grid.***.06', 'town.***')
    >>> mask_receiver("+8613812345678"), mask_receiver("party.x.13812345678")
    ('+861********78', 'party.***')
    """
    if _PHONE.match(name):
        return mask_phone(name)
    head, _, rest = name.partition(".")
    if not rest:
        return "***"
    last = rest.rpartition(".")[2]
    if "." not in rest or _DIGITS.search(last):
        return f"{head}.***"
    return f"{head}.***.{last}"


def _utc(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def order_view(raw: Mapping[str, Any]) -> Json:
    """One tracker record as the console shows it.

    ``stage``/``deadline``: the first stage not met yet and its deadline (None once
    every stage is met); ``stages``: each stage's deadline, when it was met and
    whether it breached.
    """
    rec = OrderRecord.model_validate(raw)
    stages = [s for s in STAGES if s in rec.deadlines] + sorted(
        s for s in rec.deadlines if s not in STAGES
    )
    due = next((s for s in stages if s not in rec.met_at), None)
    return {
        "order_id": rec.order_id,
        "alert_id": rec.alert_id,
        "state": rec.state.value,
        "sla_class": rec.sla_class.value,
        "stage": due,
        "deadline": _utc(rec.deadlines[due]) if due is not None else None,
        "breached": list(rec.breached),
        "stages": [
            {
                "stage": s,
                "deadline": _utc(rec.deadlines[s]),
                "met_at": _utc(rec.met_at[s]) if s in rec.met_at else None,
                "breached": s in rec.breached,
            }
            for s in stages
        ],
        "receiver": mask_receiver(rec.receiver),
        "receiver_role": rec.receiver_role,
        "escalate_to": mask_receiver(rec.escalate_to),
        "escalated": rec.escalated,
        "town": rec.town,
        "channels": list(rec.channels),
    }


def _urgent_first(view: Json) -> tuple[str, str]:
    return (view["deadline"] or "~", view["order_id"])  # "~" sorts after any time


def orders_for_alerts(
    records: Mapping[str, Any], alert_ids: Iterable[str], partitions: Iterable[int]
) -> list[Json]:
    """The orders of ``alert_ids`` held on ``partitions`` (an alert without an order
    here, none), most urgent first."""
    held = set(partitions)
    out = []
    for alert_id in dict.fromkeys(alert_ids):
        raw = records.get(order_id_for(alert_id))
        if raw and raw.get("partition") in held and raw.get("alert_id") == alert_id:
            out.append(order_view(raw))
        if len(out) >= MAX_ORDERS:
            break
    return sorted(out, key=_urgent_first)


def open_orders(
    records: Iterable[Mapping[str, Any]], partitions: Iterable[int], limit: int = MAX_ORDERS
) -> tuple[list[Json], int]:
    """The orders not finished held on ``partitions``, the ``limit`` most urgent first,
    and how many there are in all."""
    held = set(partitions)
    found = [
        order_view(raw)
        for raw in records
        if raw and raw.get("partition") in held and raw.get("state") not in _TERMINAL
    ]
    found.sort(key=_urgent_first)
    return found[:limit], len(found)
