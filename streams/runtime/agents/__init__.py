"""Faust agents: thin adapters, one verb per hop of the flow.

readings → detect → signals (department events → detect_records → signals)
→ raise_alerts → alerts →
(signals → locate_signals → scoped signals → assess_scopes → compound/systemic alerts)
→ dispatch → orders →
plan_notifications → notifications → deliver → receipts (+ SMS/voice providers);
orders + updates + ticks + re-check verdicts → track_orders → order status, SLA breaches,
escalations, and watch requests → detect / detect_records, which judge the re-check of
auto-disposal in the same state as detection and send the verdicts back.
Hops register handlers with :mod:`streams.runtime.wiring`, which makes one agent per topic group.
Each runs with concurrency 1, so no offset is committed past an unfinished event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.runtime.app import Pipeline


def register_all(pipe: Pipeline) -> None:
    from streams.runtime.agents import (
        assess_scopes,
        deliver,
        detect,
        detect_records,
        dispatch,
        locate_signals,
        plan_notifications,
        raise_alerts,
        track,
    )

    for module in (
        detect,
        detect_records,
        raise_alerts,
        locate_signals,
        assess_scopes,
        dispatch,
        plan_notifications,
        deliver,
        track,
    ):
        module.register(pipe)
