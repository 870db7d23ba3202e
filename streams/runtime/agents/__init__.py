"""The agents: one verb per hop of the flow, each a thin adapter over the core.

readings → detect → signals (department events → detect_records → signals)
→ raise_alerts → alerts →
(signals → locate_signals → scoped signals → assess_scopes → compound/systemic alerts)
→ dispatch → orders →
plan_notifications → notifications → deliver → receipts (+ SMS/voice providers; a placed
voice call → pending calls → follow_calls → its receipt, off the hot path);
orders + updates + ticks + re-check verdicts → track_orders → order status, SLA breaches,
escalations, and watch requests → detect / detect_records, which judge the re-check of
auto-disposal in the same state as detection and send the verdicts back.

Each module declares its :class:`streams.runtime.agent.Agent` (``deliver`` two); no agent
imports another. :mod:`streams.runtime.wiring` runs them, one Faust agent per
group of topics that share a reader, each event decoded once.
"""

from __future__ import annotations

from streams.runtime.agent import Agent
from streams.runtime.agents import (
    assess_scopes,
    deliver,
    detect,
    detect_records,
    dispatch,
    locate_signals,
    plan_notifications,
    raise_alerts,
    track_orders,
)

#: In the order of the flow: within one Faust agent, handlers run in this order.
AGENTS: tuple[Agent, ...] = (
    detect.AGENT,
    detect_records.AGENT,
    raise_alerts.AGENT,
    locate_signals.AGENT,
    assess_scopes.AGENT,
    dispatch.AGENT,
    plan_notifications.AGENT,
    deliver.DELIVER,
    deliver.FOLLOW_CALLS,
    track_orders.AGENT,
)
