"""Agent ``detect``: readings → risk signals (reading → **signal**), and the sensors' re-check.

Per-sensor detector state (compact JSON) lives in a changelog-backed table keyed
by sensor id, the readings topic's key, so the state moves with its partition and
survives a restart. Between offset commits each sensor's detectors stay live in
memory and its state is written once per commit (:mod:`streams.runtime.live`). A
key the worker holds no state for starts from its baseline (``YUJING_BASELINES``:
state learnt from history, :mod:`streams.core.signals.baseline`), if there is
one, else cold. The same
state carries the machine re-check of auto-disposal
(:mod:`streams.core.signals.recheck`): watch requests from ``track_orders``, keyed
by sensor id too, attach orders to it, and each reading's verdicts go back keyed
by order id. Gateway batches (``yujing.reading-batches.v1``, each of one
partition's sensors) go through the same core, reading by reading in the
gateway's order. After each input, the partition's dead-man's switch
(:mod:`streams.runtime.silences`) signals the sensors that have gone silent by
its event time. A reading its sensor has just seen (among its last few) is
taken once; one whose id comes again with another value or time is dead-lettered
as ``conflict`` (in a batch, that reading alone).
"""

from __future__ import annotations

from collections.abc import Callable

from schemas import DeadLetterReason, DisposalWatch, ReadingBatch, RiskSignal, SensorReading
from schemas.codec import encode as item_json
from schemas.registry import DISPOSAL_WATCH, READING_BATCHES, READINGS
from streams.core.signals.detect import Detection, Live, Observations
from streams.runtime.agent import Agent, Handlers, Result, Source
from streams.runtime.context import Context
from streams.runtime.live import LiveTable
from streams.runtime.silences import Silences

CONFLICT = DeadLetterReason.CONFLICT
Commit = Callable[[], None]


def build(ctx: Context) -> Handlers:
    detection = ctx.config.detection(observe=ctx.metrics.observe_detector)
    live = sensor_states(ctx, detection)
    silences = sensor_silences(ctx, detection, live)

    def observe(readings: list[SensorReading], src: Source) -> tuple[Observations, Commit]:
        at, now = (src.topic, src.offset), ctx.clock()  # a replay taken changes nothing
        seen = detection.observe_many(readings, live.get, now, at)
        seen.outputs += (silent := silences.observe(src.partition, readings, now))[0]
        ctx.metrics.observe_signals([o for o in seen.outputs if isinstance(o, RiskSignal)])
        ctx.metrics.repeats.labels("detect").inc(seen.repeats)
        return seen, live.mark([*(r.sensor_id for r in readings), *silent[1]])

    def on_reading(reading: SensorReading, src: Source) -> Result:
        seen, commit = observe([reading], src)
        refused = [(CONFLICT, why) for _, why in seen.conflicts]
        return Result(outputs=seen.outputs, commit=commit, dead_letter=next(iter(refused), None))

    def on_batch(batch: ReadingBatch, src: Source) -> Result:
        seen, commit = observe(batch.readings, src)
        ctx.metrics.batch_readings.inc(len(batch.readings))
        refused = [(item_json(batch.readings[i]), CONFLICT, why, i) for i, why in seen.conflicts]
        return Result(outputs=seen.outputs, commit=commit, refused=refused)

    def on_watch(req: DisposalWatch, _: Source) -> Result:
        new, verdicts = detection.attach(req, live.stored(req.sensor_id), ctx.clock())
        keep = None if new is None else lambda: live.replace(req.sensor_id, detection.load(new))
        return Result(outputs=verdicts, commit=keep)

    return {READINGS: on_reading, READING_BATCHES: on_batch, DISPOSAL_WATCH: on_watch}


def sensor_silences(ctx: Context, detection: Detection, live: LiveTable[Live]) -> Silences:
    """The partitions' dead-man's switches, forgotten (rebuilt when next needed) whenever
    partitions move."""
    silences = Silences(detection.silence_of, live)
    ctx.on_revoke(silences.forget)
    return silences


def sensor_states(ctx: Context, detection: Detection) -> LiveTable[Live]:
    """The sensors' live detectors over their table; a key this worker holds no state for
    starts from its baseline. Written at every checkpoint (before each commit, and when
    partitions move)."""
    baselines = ctx.config.baselines
    live = LiveTable(
        ctx.table("sensor-detector-state", staged=True),
        ctx.settings.partitions,
        load=lambda sid, stored: detection.load(stored or baselines.sensor(sid)),
        dump=detection.dump,
        max_live=ctx.settings.live_keys,
    )

    ctx.keep(live)
    return live


AGENT = Agent("detect", build, in_flight=True)
