"""Contract tests run over every registered detector kind (river-style estimator checks).

Every kind in ``streams.core.detectors.REGISTRY`` must: build from its sample
parameters; be deterministic for a seed; raise nothing and score nothing
before warm-up; give finite scores in [0, 1]; and survive a JSON state round
trip with identical behaviour afterwards.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streams.core.detectors import REGISTRY, Detector, Point, Record

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
