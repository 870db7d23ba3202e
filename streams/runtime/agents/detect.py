"""Agent ``detect``: readings → risk signals (reading → **signal**), and the sensors' re-check.

Per-sensor detector state (compact JSON) lives in a changelog-backed table keyed
by sensor id, the readings topic's key, so the state moves with its partition and
survives a restart. A key the worker holds no state for starts from its
baseline (``YUJING_BASELINES``: state learnt from history,
:mod:`streams.core.signals.baseline`), if there is one, else cold. The same
state carries the machine re-check of auto-disposal
(:mod:`streams.core.signals.recheck`): watch requests from ``track_orders``, keyed
by sensor id too, attach orders to it, and each reading's verdicts go back keyed
by order id.
"""

from __future__ import annotations

from schemas import DisposalWatch, SensorReading
from schemas.registry import DISPOSAL_WATCH, READINGS
from streams.runtime.agent import Agent, Handlers, Result, Source, store
from streams.runtime.context import Context


def build(ctx: Context) -> Handlers:
    detection = ctx.config.detection(observe=ctx.metrics.observe_detector)
    baselines = ctx.config.baselines  # for a key this worker holds no state for
    state = ctx.table("sensor-detector-state")

    def on_reading(reading: SensorReading, _: Source) -> Result:
        old = state.get(reading.sensor_id)
        seen = detection.observe_reading(
            reading, old or baselines.sensor(reading.sensor_id), ctx.clock()
        )
        ctx.metrics.observe_signals(seen.signals)
        commit = store(state, reading.sensor_id, seen.state, old)
        return Result(outputs=[*seen.signals, *seen.health], commit=commit)

    def on_watch(req: DisposalWatch, _: Source) -> Result:
        new, verdicts = detection.attach(req, state.get(req.sensor_id), ctx.clock())
        return Result(outputs=verdicts, commit=store(state, req.sensor_id, new))

    return {READINGS: on_reading, DISPOSAL_WATCH: on_watch}


AGENT = Agent("detect", build)
