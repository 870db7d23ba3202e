"""Agent ``detect_records``: department events → risk signals (department event → **signal**).

Rate anomalies and data collisions are judged per place: the department events
topic is keyed by place id, and so is this agent's changelog-backed state table.
A key the worker holds no state for starts from its baseline (``YUJING_BASELINES``:
state learnt from history, :mod:`streams.core.signals.baseline`), if there is one,
else cold.
The same state carries the places' machine re-check of auto-disposal
(:mod:`streams.core.signals.recheck`): place watch requests from ``track_orders``,
keyed by place id too, attach orders to it, and each record's verdicts go back
keyed by order id.
"""

from __future__ import annotations

from schemas import DeadLetterReason, DepartmentEvent, PlaceWatch
from schemas.registry import DEPARTMENT_EVENTS, PLACE_WATCH
from streams.core.signals.detect import Conflict
from streams.runtime.agent import Agent, Handlers, Result, Source, store
from streams.runtime.context import Context


def build(ctx: Context) -> Handlers:
    detection = ctx.config.detection(observe=ctx.metrics.observe_detector)
    baselines = ctx.config.baselines  # for a key this worker holds no state for
    state = ctx.table("place-detector-state")

    def on_record(event: DepartmentEvent, _: Source) -> Result:
        old = state.get(event.place_id)
        try:
            seen = detection.observe_record(
                event, old or baselines.place(event.place_id), ctx.clock()
            )
        except Conflict as err:  # the id came before with other content: the first stands
            return Result(dead_letter=(DeadLetterReason.CONFLICT, str(err)))
        ctx.metrics.observe_signals(seen.signals)
        commit = store(state, event.place_id, seen.state, old)
        return Result(outputs=[*seen.signals, *seen.health], commit=commit)

    def on_watch(req: PlaceWatch, _: Source) -> Result:
        new, verdicts = detection.attach(req, state.get(req.place_id), ctx.clock())
        return Result(outputs=verdicts, commit=store(state, req.place_id, new))

    return {DEPARTMENT_EVENTS: on_record, PLACE_WATCH: on_watch}


AGENT = Agent("detect_records", build)
