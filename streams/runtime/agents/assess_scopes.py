"""Agent ``assess_scopes``: scoped signals → compound and systemic alerts (→ **alert**).

The windowed join: every signal of one scope (a town, an industry, the district)
arrives in one partition of ``yujing.scoped-signals.v1``; its windows live in a
changelog-backed JSON table keyed by (scope, rule, window start), and the rules
are evaluated as each signal arrives (:mod:`streams.core.alerts.scopes`). Windows
are garbage-collected by the scope's event-time watermark, stored in the same
table: nothing relies on ``on_window_close`` or wall-clock expiry, so recovery
from the changelog restores everything the rules need. The risk map over the
same table is served by :mod:`streams.runtime.web`.
"""

from __future__ import annotations

from schemas import DeadLetterReason, ScopedSignal
from schemas.registry import SCOPED_SIGNALS
from streams.core.alerts.scopes import ScopeEngine
from streams.runtime.agent import Agent, Handlers, Result, Source, store_all
from streams.runtime.context import Context

TABLE = "scope-windows"


def build(ctx: Context) -> Handlers:
    engine = ScopeEngine(ctx.config.catalogue, ctx.config.regions, ctx.settings.observed_since)
    table = ctx.table(TABLE)

    def on_scoped(scoped: ScopedSignal, source: Source) -> Result:
        step = engine.on_signal(scoped, table.get, source.partition)
        dead = (DeadLetterReason.LATE, step.late) if step.late else None
        return Result(outputs=step.alerts, commit=store_all(table, step.writes), dead_letter=dead)

    return {SCOPED_SIGNALS: on_scoped}


AGENT = Agent("assess_scopes", build)
