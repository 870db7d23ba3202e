"""Alerts: the warnings operators watch.

(reading → signal → **alert** → order → notification.) An alert is single
(one signal), compound (several risks at one place in one window) or systemic
(trend, regional, industry, comprehensive). It carries its portrait: the
signals behind it and a human summary.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from schemas.base import Event, Id, Labels, Name, Text


class AlertKind(StrEnum):
    SINGLE = "single"
    COMPOUND = "compound"
    SYSTEMIC = "systemic"


class Alert(Event):
    """One warning; ``version`` grows as evidence for the same alert grows."""

    schema_version: Literal[1] = 1
    alert_id: Id = Field(description="Deterministic per (rule, scope, window); the topic key.")
    version: int = Field(default=1, ge=1)
    kind: AlertKind
    rule_id: Name
    level: Literal["low", "medium", "high", "critical"]
    emergency: bool
    auto_disposable: bool = False
    scope: Id = Field(description="Place id, town, industry or 'district', depending on kind.")
    module: Name
    risk_points: list[Name] = Field(min_length=1, max_length=64)
    labels: Labels = Field(default_factory=dict, max_length=32)
    signal_ids: list[Id] = Field(min_length=1, max_length=256)
    source_keys: list[Id] = Field(
        default_factory=list,
        max_length=256,
        description="Sensors or subjects whose readings raised it; what auto-disposal re-checks.",
    )
    summary: Text = Field(description="What, where, how bad, why — for a person.")
