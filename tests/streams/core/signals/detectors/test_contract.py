"""Contract tests run over every registered detector kind (river-style estimator checks).

Every kind in ``streams.core.signals.detectors.REGISTRY`` must: build from its sample
parameters; be deterministic for a seed; raise nothing and score nothing
before warm-up; give finite scores in [0, 1]; and survive a JSON state round
trip with identical behaviour afterwards. And its machine re-check
(``recheck_one``, from the state that raised an alarm) must never judge an
incident that goes on healthy, must judge a sensor back to normal healthy,
and must survive a JSON state round trip too.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from incidents import Incident, incident, until_alarm

from streams.core.signals.detectors import REGISTRY, Detector, Point, Record
from streams.core.signals.trigger import Trigger

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def params_for(cls: type[Detector[Any]]) -> dict[str, Any]:
    sample = getattr(cls, "sample_params", None)
    if sample is not None:
        return dict(sample())
    if cls.kind == "threshold":
        return {"upper": 20.0, "clear": 10.0}
    pytest.fail(f"detector kind {cls.kind!r} needs sample_params() for the contract tests")


def stream(cls: type[Detector[Any]], params: dict[str, Any], n: int, seed: int) -> Iterator[Any]:
    """A seeded input stream of the right input type, with an anomaly burst at the end."""
    rng = random.Random(seed)
    if cls.input == "point":
        for i in range(n):
            t = T0 + timedelta(minutes=10 * i)
            base = 10.0 + 3.0 * math.sin(2 * math.pi * i / 144) + rng.gauss(0, 0.5)
            if i > n * 0.8:
                base += 25.0
            yield Point(t=t, value=base, values={"value": base}, event_id=f"r{i}")
    else:
        left = params.get("left", {}).get("event_type", "a") if "left" in params else "a"
        right = params.get("right", {}).get("event_type", "b") if "right" in params else "b"
        lf = params.get("left", {}).get("field") or "x"
        rf = params.get("right", {}).get("field") or "y"
        for i in range(n):
            t = T0 + timedelta(hours=6 * i)
            burst = i > n * 0.8
            for j in range(1 + (rng.random() < 0.2) + (5 if burst else 0)):
                et = left if (i + j) % 2 == 0 else right
                attrs = {lf: 2, rf: 10 if burst else 3}
                yield Record(
                    t=t + timedelta(minutes=j),
                    department="d",
                    event_type=et,
                    attributes=attrs,
                    event_id=f"e{i}-{j}",
                )


def run(det: Detector[Any], xs: list[Any]) -> list[float]:
    scores = []
    for x in xs:
        scores.append(det.score_one(x))
        det.learn_one(x)
    return scores


KINDS = sorted(REGISTRY)
POINT_KINDS = sorted(k for k, c in REGISTRY.items() if c.input == "point")


@pytest.fixture(params=KINDS)
def cls(request: pytest.FixtureRequest) -> type[Detector[Any]]:
    return REGISTRY[request.param]


def test_registry_is_not_empty_and_kinds_match_keys() -> None:
    assert {"threshold", "seasonal_zscore", "level_shift", "rate", "collision"} <= set(REGISTRY)
    for kind, cls in REGISTRY.items():
        assert cls.kind == kind
        assert cls.input in ("point", "record")
        assert cls.version >= 1


def test_deterministic_for_a_seed(cls: type[Detector[Any]]) -> None:
    p = params_for(cls)
    xs = list(stream(cls, p, 400, seed=7))
    a = run(cls.from_params(p, seed=3), xs)
    b = run(cls.from_params(p, seed=3), xs)
    assert a == b


def test_scores_finite_and_in_unit_interval(cls: type[Detector[Any]]) -> None:
    p = params_for(cls)
    xs = list(stream(cls, p, 400, seed=11))
    scores = run(cls.from_params(p), xs)
    assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
    # extreme inputs too
    det = cls.from_params(p)
    run(det, xs[:200])
    if cls.input == "point":
        for v in (1e300, -1e300, 0.0, 1e-300):
            s = det.score_one(Point(t=T0 + timedelta(days=30), value=v))
            assert math.isfinite(s) and 0.0 <= s <= 1.0


def test_no_signal_score_before_warm_up(cls: type[Detector[Any]]) -> None:
    p = params_for(cls)
    det = cls.from_params(p)
    for x in stream(cls, p, 400, seed=5):
        if det.is_warm():
            break
        assert det.score_one(x) == 0.0 or cls.kind in ("threshold", "collision"), (
            "a learning detector must score 0 until its baseline exists"
        )
        det.learn_one(x)
    trig = det.default_trigger()
    cold = cls.from_params(p)
    if not cold.is_warm():
        _, fired = trig.step(None, 1.0, T0, warm=cold.is_warm())
        assert not fired, "a trigger never fires before warm-up"


def test_state_round_trip_restores_identical_behaviour(cls: type[Detector[Any]]) -> None:
    p = params_for(cls)
    xs = list(stream(cls, p, 500, seed=13))
    original = cls.from_params(p, seed=1)
    run(original, xs[:300])
    state = json.loads(json.dumps(original.state()))  # JSON, not pickle
    restored = cls.restore(p, state, seed=1)
    assert restored.state() == original.state()
    assert restored.is_warm() == original.is_warm()
    assert run(restored, xs[300:]) == run(original, xs[300:])


def test_state_is_small(cls: type[Detector[Any]]) -> None:
    """≤ 4 KB of compact JSON per key after a long history (100k sensors in 1 GiB)."""
    p = params_for(cls)
    det = cls.from_params(p)
    run(det, list(stream(cls, p, 2000, seed=17)))
    size = len(json.dumps(det.state(), separators=(",", ":")))
    assert size <= 4096, f"{cls.kind}: {size} bytes of state"


def test_score_one_does_not_learn(cls: type[Detector[Any]]) -> None:
    p = params_for(cls)
    det = cls.from_params(p)
    xs = list(stream(cls, p, 300, seed=19))
    run(det, xs[:250])
    before = json.dumps(det.state(), sort_keys=True)
    for x in xs[250:]:
        det.score_one(x)
    assert json.dumps(det.state(), sort_keys=True) == before


def test_bad_parameters_are_rejected_with_the_kind(cls: type[Detector[Any]]) -> None:
    with pytest.raises(ValueError, match=cls.kind):
        cls.from_params({**params_for(cls), "no_such_parameter": 1})


def alarm(cls: type[Detector[Any]], seed: int = 0) -> tuple[Incident, Detector[Any], Trigger, Any]:
    """The incident's alarm: a re-check begun from the state that raised it (as detection does)."""
    p = params_for(cls)
    inc = incident(cls, p, seed)
    det = cls.from_params(p, seed)
    trig = det.default_trigger()
    for x, fired in until_alarm(det, trig, inc):
        if fired:
            check = cls.restore(p, json.loads(json.dumps(det.state())), seed)
            check.recheck_learn(x, False)  # the alarm's own observation, never learnt
            return inc, check, trig, x
    pytest.fail(f"{cls.kind}: the incident never raised an alarm")


def test_recheck_never_judges_an_incident_that_goes_on_healthy(cls: type[Detector[Any]]) -> None:
    inc, check, trig, x = alarm(cls)
    verdicts = [check.recheck_one(y, trig) for y in inc.persist(x.t + inc.step, 600)]
    assert verdicts, "the incident goes on"
    healthy = [i for i, ok in enumerate(verdicts) if ok]
    assert not healthy, f"{cls.kind}: judged healthy at {healthy[:5]} while the incident went on"


@pytest.mark.parametrize("kind", POINT_KINDS)
def test_recheck_judges_a_sensor_back_to_normal_healthy(kind: str) -> None:
    """(Department records recover by stopping: streams/core/test_disposal.py.)"""
    cls = REGISTRY[kind]
    inc, check, trig, x = alarm(cls)
    streak = 0
    for y in inc.recover(x.t + inc.step, 120):
        streak = streak + 1 if check.recheck_one(y, trig) else 0
        if streak >= 3:
            return
    pytest.fail(f"{kind}: 120 normal readings after the alarm, never 3 healthy in a row")


@pytest.mark.parametrize("kind", POINT_KINDS)
def test_a_recovered_sensor_stays_healthy_for_hours(kind: str) -> None:
    """What the re-check learns while healthy keeps up with a normal day (no false relapse)."""
    cls = REGISTRY[kind]
    inc, check, trig, x = alarm(cls)
    verdicts = [check.recheck_one(y, trig) for y in inc.recover(x.t + inc.step, 6 * 60)]
    assert sum(verdicts[60:]) >= 0.95 * len(verdicts[60:]), f"{kind}: relapses when normal"


def test_recheck_survives_a_json_state_round_trip(cls: type[Detector[Any]]) -> None:
    inc, check, trig, x = alarm(cls)
    later = inc.persist(x.t + inc.step, 20)
    later += inc.recover(later[-1].t + inc.step if later else x.t, 40)
    for y in later[:10]:
        check.recheck_one(y, trig)
    copy = cls.restore(params_for(cls), json.loads(json.dumps(check.state())))
    assert [copy.recheck_score(y) for y in later[10:]] == [
        check.recheck_score(y) for y in later[10:]
    ]
    assert [copy.recheck_one(y, trig) for y in later[10:]] == [
        check.recheck_one(y, trig) for y in later[10:]
    ]


def test_recheck_scores_are_finite_and_in_the_unit_interval(cls: type[Detector[Any]]) -> None:
    inc, check, trig, x = alarm(cls)
    ys = inc.persist(x.t + inc.step, 50) + inc.recover(x.t + 60 * inc.step, 50)
    if cls.input == "point":
        ys += [Point(t=x.t + timedelta(days=1), value=v) for v in (1e300, -1e300, 0.0, 1e-300)]
    for y in ys:
        s = check.recheck_score(y)
        assert math.isfinite(s) and 0.0 <= s <= 1.0
        check.recheck_one(y, trig)


@functools.cache
def _cached_alarm(kind: str) -> tuple[Incident, Detector[Any], Trigger, Any]:
    return alarm(REGISTRY[kind])


#: Point kinds whose score grows with the distance from normal. (``surprise`` judges the
#: novelty of hashed contexts, not distance: a far reading may share a slot with a seen one.)
DISTANCE_KINDS = [k for k in POINT_KINDS if k != "surprise"]


@pytest.mark.parametrize("kind", DISTANCE_KINDS)
@settings(max_examples=60, deadline=None)
@given(
    extras=st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=1, max_size=40),
    gap_s=st.integers(min_value=1, max_value=7200),
)
def test_a_reading_as_far_from_normal_as_the_alarm_is_never_healthy(
    kind: str, extras: list[float], gap_s: int
) -> None:
    """Property: after an alarm, readings at least as far out as the alarm's (same side), at
    any times and however many, are each judged unhealthy: nothing is learnt from them."""
    inc, check, trig, x = _cached_alarm(kind)
    check = copy.deepcopy(check)
    side = 1.0 if x.value > inc.history[-1].value else -1.0
    for i, extra in enumerate(extras):
        y = Point(t=x.t + timedelta(seconds=gap_s * (i + 1)), value=x.value + side * extra)
        assert not check.recheck_one(y, trig), (kind, i, y.value)
