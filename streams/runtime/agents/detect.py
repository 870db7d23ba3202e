"""Agent ``detect``: readings → risk signals (reading → **signal**), and the sensors' re-check.

Per-sensor detector state (compact JSON) lives in a changelog-backed table keyed
by sensor id, the readings topic's key, so the state moves with its partition and
survives a restart. A key the worker holds no state for starts from its
baseline (``YUJING_BASELINES``: state learnt from history,
:mod:`streams.core.signals.baseline`), if there is one, else cold. The same
state carries the machine re-check of auto-disposal
(:mod:`streams.core.signals.recheck`): watch requests from ``track_orders``, keyed
by sensor id too, attach orders to it, and each reading's verdicts go back keyed
by order id. Gateway batches (``yujing.reading-batches.v1``, keyed by gateway) go
through the same core, reading by reading in the gateway's order; the state of
every sensor they touch is committed together once their outputs are delivered.
"""

from __future__ import annotations

from schemas import DisposalWatch, ReadingBatch, RiskSignal, SensorReading
from schemas.registry import DISPOSAL_WATCH, READING_BATCHES, READINGS
from streams.runtime.agent import Agent, Handlers, Result, Source, store, store_all
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

    def on_batch(batch: ReadingBatch, _: Source) -> Result:
        outputs, changed = detection.observe_readings(
            batch.readings, lambda sid: state.get(sid) or baselines.sensor(sid), ctx.clock()
        )
        ctx.metrics.observe_signals([o for o in outputs if isinstance(o, RiskSignal)])
        ctx.metrics.batch_readings.inc(len(batch.readings))
        return Result(outputs=outputs, commit=store_all(state, changed))

    def on_watch(req: DisposalWatch, _: Source) -> Result:
        new, verdicts = detection.attach(req, state.get(req.sensor_id), ctx.clock())
        return Result(outputs=verdicts, commit=store(state, req.sensor_id, new))

    return {READINGS: on_reading, READING_BATCHES: on_batch, DISPOSAL_WATCH: on_watch}


AGENT = Agent("detect", build)
