"""Dispatch orders, their lifecycle updates and SLA breaches.

(reading → signal → alert → **order** → notification.) Exactly one order per
alert; downstream systems (field-worker app, case management) send lifecycle
updates back on their own topic; a missed stage deadline is a breach.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.base import Event, Id, Name, Text
from schemas.notification import Channel


class SlaClass(StrEnum):
    EMERGENCY = "emergency"
    NON_EMERGENCY = "non_emergency"


class OrderAction(StrEnum):
    SIGNED = "signed"
    ASSIGNED = "assigned"
    ARRIVED = "arrived"
    RESOLVED = "resolved"
    FEEDBACK = "feedback"
    #: the party concerned asked for help during automatic disposal (the voice call's
    #: "needs help" answer): a person takes the order over now, not at the re-check
    HELP_REQUESTED = "help_requested"


class OrderState(StrEnum):
    """Where an order is in its lifecycle (see ``streams.core.orders.lifecycle``)."""

    AUTO_DISPOSING = "auto_disposing"
    OPEN = "open"
    SIGNED = "signed"
    ASSIGNED = "assigned"
    ARRIVED = "arrived"
    RESOLVED = "resolved"
    CLOSED = "closed"
    AUTO_RESOLVED = "auto_resolved"


class AutoDisposalPlan(BaseModel):
    """How the machine handles an auto-disposable order before any person does."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    party_concerned: Name = Field(description="Receiver reminded by SMS and called by voice.")
    sensor_ids: list[Id] = Field(min_length=1, max_length=16, description="What is re-checked.")
    risk_point: Name = Field(description="Risk point whose detector judges recovery.")
    healthy_readings: int = Field(ge=1, description="Healthy readings in a row that count.")
    healthy_for_s: float | None = Field(
        default=None,
        gt=0,
        description="Or: healthy for this many seconds (at least one healthy reading, and "
        "none unhealthy in this span before the latest), for a device that reports rarely. "
        "None: the readings alone count.",
    )
    recheck_at: AwareDatetime = Field(
        description="When the machine re-checks; healthy → auto-resolved, else escalated."
    )
    place_id: Id | None = Field(
        default=None,
        description="The alert's place: what is re-checked for a risk point fed by department "
        "records (whether its records have stopped).",
    )
    since: AwareDatetime | None = Field(
        default=None,
        description="The alarm: event time of the observation that raised the alert. The "
        "re-check judges what came after it.",
    )


class DispatchOrder(Event):
    """The work item for one alert: who, how to reach them, by when."""

    schema_version: Literal[1] = 1
    order_id: Id = Field(
        description="Deterministic from alert_id: one order per alert; the topic key."
    )
    alert_id: Id
    route: Name = Field(description="Route (from the routing tree) that matched the alert.")
    receiver: Name = Field(description="Receiver that gets the work.")
    assignee_role: Name = Field(
        description="The receiver's role: grid_worker, party_concerned, town_street, ..."
    )
    department: Name | None = Field(
        default=None,
        description="The department that answers for the alert's module (the district model's "
        "directory): whose handling the order's SLA assesses.",
    )
    town: Id | None = Field(
        default=None, description="The town/street with jurisdiction over the alert's place."
    )
    channels: list[Channel] = Field(max_length=4)
    sla_class: SlaClass
    deadlines: dict[Name, AwareDatetime] = Field(
        description="Stage → deadline, e.g. {'signed': ..., 'resolved': ...}."
    )
    summary: Text
    escalate_to: Name = Field(description="Receiver told when a stage deadline is missed.")
    auto_disposal: AutoDisposalPlan | None = Field(
        default=None,
        description="Set when the alert is auto-disposable: machine first, person if needed.",
    )


class DispatchUpdate(Event):
    """A lifecycle step reported by a downstream system."""

    schema_version: Literal[1] = 1
    update_id: Id = Field(description="Unique per update; replays with the same id are ignored.")
    order_id: Id = Field(description="The order it updates; the topic key.")
    action: OrderAction
    actor: Id
    note: Text = ""


class SlaBreach(Event):
    """A stage of an order that missed its deadline; published once per (order, stage)."""

    schema_version: Literal[1] = 1
    breach_id: Id = Field(description="Deterministic from (order_id, stage).")
    order_id: Id = Field(description="The topic key.")
    alert_id: Id
    stage: Name
    deadline: AwareDatetime
    escalate_to: Name
    receiver: Name | None = Field(default=None, description="Who missed it: the order's receiver.")
    receiver_role: Name | None = Field(default=None, description="The receiver's role.")
    department: Name | None = Field(
        default=None, description="The department that answers for the order's module."
    )
    town: Id | None = Field(default=None, description="The town/street of the order's place.")


class OrderStatus(Event):
    """The order's lifecycle state after a change, for operators and downstream systems."""

    schema_version: Literal[1] = 1
    status_id: Id = Field(description="Deterministic from (order_id, state).")
    order_id: Id = Field(description="The topic key.")
    alert_id: Id
    state: OrderState
    previous: OrderState | None = None
    cause: Name = Field(description="What moved it: an update action, 'created', 'recheck', ...")
    detail: Text = ""
