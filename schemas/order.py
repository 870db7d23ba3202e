"""Dispatch orders, their lifecycle updates and SLA breaches.

(reading → signal → alert → **order** → notification.) Exactly one order per
alert; downstream systems (field-worker app, case management) send lifecycle
updates back on their own topic; a missed stage deadline is a breach.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

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


class DispatchOrder(Event):
    """The work item for one alert: who, how to reach them, by when."""

    schema_version: Literal[1] = 1
    order_id: Id = Field(
        description="Deterministic from alert_id: one order per alert; the topic key."
    )
    alert_id: Id
    route: Name = Field(description="Route (from the routing tree) that matched the alert.")
    receiver: Name = Field(description="Receiver that gets the work.")
    assignee_role: Name
    channels: list[Channel] = Field(max_length=4)
    sla_class: SlaClass
    deadlines: dict[Name, AwareDatetime] = Field(
        description="Stage → deadline, e.g. {'signed': ..., 'resolved': ...}."
    )
    summary: Text


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
