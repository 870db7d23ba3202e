"""Order creation: the one dispatch order for an alert, from its route.

(reading → signal → alert → route → **order** → notification.) Pure: given the
route tree and receiver resolution of :mod:`streams.core.orders.routing` and an
alert that is paged (:func:`streams.core.alerts.inhibition.pages`), build the
:class:`~schemas.DispatchOrder`: who works it (the receiver resolved for the
alert's scope and module: the grid worker of its cell, its site's owner, its
town's office, its module's department), on which channels, under which SLA
class and deadlines (:mod:`streams.core.orders.sla`), who it escalates to,
which department and town answer for it, and — for an auto-disposable alert
with known source sensors, on a route that names a party concerned — the
auto-disposal plan: machine first, with the re-check time and the readings
that count as recovered.

The order id depends only on the alert id, so redelivery and newer versions of
the same alert can never mint a second order; ``now`` (the dispatcher's clock)
only sets the deadlines and the re-check time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas import Alert, AutoDisposalPlan, DispatchOrder
from streams.core.orders import sla
from streams.core.orders.routing import Router
from streams.core.shared.ids import stable_id

#: At most this many sensors are re-checked for one auto-disposable order.
MAX_RECHECK_SENSORS = 16


def order_id_for(alert_id: str) -> str:
    """The id of an alert's dispatch order.

    >>> order_id_for("alert-1") == order_id_for("alert-1") != order_id_for("alert-2")
    True
    """
    return stable_id("order", alert_id)


def route_label(name: str) -> str:
    """Route names become a bounded, schema-safe token (the order's ``route`` is a Name).

    >>> route_label("root/emergency=true,module=gas safety")
    'root_emergency_true_module_gas_safety'
    >>> route_label(""), route_label("燃气 urgent")
    ('root', '___urgent')
    """
    cleaned = "".join(
        c if (c.isascii() and c.isalnum()) or c in "_.-" else "_" for c in name.lower()
    )
    return cleaned[:64] or "root"


def create_order(router: Router, alert: Alert, now: datetime) -> DispatchOrder:
    """The one dispatch order for ``alert`` on the route ``router`` resolves for it."""
    d = router.resolve(router.labels_for(alert))
    directory = router.directory
    receiver = router.party_for(d.receiver, alert.scope, alert.module)
    escalate = router.party_for(d.escalate_to, alert.scope, alert.module)
    auto = None
    if alert.auto_disposable and alert.source_keys and d.party_concerned is not None:
        cfg = router.auto_disposal
        auto = AutoDisposalPlan(
            party_concerned=router.party_for(d.party_concerned, alert.scope, alert.module).name,
            sensor_ids=sorted(set(alert.source_keys))[:MAX_RECHECK_SENSORS],
            risk_point=alert.risk_points[0],
            healthy_readings=cfg.healthy_readings,
            healthy_for_s=cfg.healthy_for_s,
            recheck_at=now + timedelta(seconds=cfg.recheck_after_s[d.sla_class]),
            place_id=alert.scope,
            since=alert.event_time,
        )
    return DispatchOrder(
        order_id=order_id_for(alert.alert_id),
        alert_id=alert.alert_id,
        route=route_label(d.route),
        receiver=receiver.name,
        assignee_role=receiver.role,
        department=directory.department_of(alert.module) if directory else None,
        town=directory.jurisdiction(alert.scope).get("town") if directory else None,
        channels=list(d.channels),
        sla_class=d.sla_class,
        deadlines=sla.deadlines(d.sla_class, now),
        summary=alert.summary,
        escalate_to=escalate.name,
        auto_disposal=auto,
        event_time=now,
    )
