"""Trigger: hysteresis, the "for" duration, warm-up, and parameter checks."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.signals.trigger import Trigger

T0 = datetime(2026, 3, 1, tzinfo=UTC)

scores = st.lists(st.integers(min_value=0, max_value=20).map(lambda i: i / 20), max_size=60)


@st.composite
def triggers(draw: st.DrawFn, for_s: bool = False, clear: bool | None = None) -> Trigger:
    threshold = draw(st.integers(min_value=1, max_value=20).map(lambda i: i / 20))
    use_clear = draw(st.booleans()) if clear is None else clear
    c = draw(st.integers(min_value=0, max_value=int(threshold * 20)).map(lambda i: i / 20))
    duration = draw(st.sampled_from([0.0, 30.0, 60.0, 150.0])) if for_s else 0.0
    return Trigger(threshold=threshold, clear=c if use_clear else None, for_s=duration)


def run(
    trig: Trigger, ss: list[float], step_s: float = 60.0, warm: bool = True
) -> tuple[list[bool], list[bool], list[dict[str, Any]]]:
    state: dict[str, Any] | None = None
    active_before, fired, states = [], [], []
    for i, s in enumerate(ss):
        active_before.append(bool(state and state.get("a")))
        state, f = trig.step(state, s, T0 + timedelta(seconds=step_s * i), warm)
        fired.append(f)
        states.append(state)
    return active_before, fired, states


def test_the_documented_example() -> None:
    trig = Trigger(threshold=0.8, clear=0.5, for_s=60)
    _, fired, _ = run(trig, [0.9, 0.95, 0.9, 0.7, 0.9, 0.4, 0.9, 0.9])
    assert fired == [False, True, False, False, False, False, False, True]


@given(trig=triggers(for_s=True), ss=scores)
def test_never_fires_while_active(trig: Trigger, ss: list[float]) -> None:
    active_before, fired, _ = run(trig, ss)
    assert not any(a and f for a, f in zip(active_before, fired, strict=True))


@given(trig=triggers(for_s=True), ss=scores)
def test_fires_only_at_or_above_the_threshold(trig: Trigger, ss: list[float]) -> None:
    _, fired, _ = run(trig, ss)
    assert all(s >= trig.threshold for s, f in zip(ss, fired, strict=True) if f)


@given(trig=triggers(for_s=True, clear=True), ss=scores)
def test_fires_at_most_once_between_clears(trig: Trigger, ss: list[float]) -> None:
    assert trig.clear is not None
    _, fired, _ = run(trig, ss)
    at = [i for i, f in enumerate(fired) if f]
    for i, j in itertools.pairwise(at):
        assert any(ss[k] <= trig.clear for k in range(i + 1, j))


@given(trig=triggers(for_s=True, clear=False), ss=scores)
def test_with_clear_none_fires_again_only_after_dropping_below_threshold(
    trig: Trigger, ss: list[float]
) -> None:
    _, fired, _ = run(trig, ss)
    at = [i for i, f in enumerate(fired) if f]
    for i, j in itertools.pairwise(at):
        assert any(ss[k] < trig.threshold for k in range(i + 1, j))


@given(trig=triggers(), ss=scores)
def test_without_for_every_armed_crossing_fires(trig: Trigger, ss: list[float]) -> None:
    _, fired, _ = run(trig, ss)
    armed = True
    for s, f in zip(ss, fired, strict=True):
        if armed:
            assert f == (s >= trig.threshold)
            armed = not f
        else:
            assert not f
            armed = s <= trig.clear if trig.clear is not None else s < trig.threshold


@given(trig=triggers(for_s=True), ss=scores, step=st.sampled_from([10.0, 60.0, 200.0]))
def test_fires_only_after_the_score_held_for_the_duration(
    trig: Trigger, ss: list[float], step: float
) -> None:
    _, fired, _ = run(trig, ss, step_s=step)
    for j, f in enumerate(fired):
        if not f:
            continue
        # The run of scores at or above the threshold ending at j spans >= for_s.
        i = j
        while i > 0 and ss[i - 1] >= trig.threshold:
            i -= 1
        assert (j - i) * step >= trig.for_s


@given(trig=triggers(for_s=True), ss=scores)
def test_a_cold_detector_never_fires(trig: Trigger, ss: list[float]) -> None:
    _, fired, states = run(trig, ss, warm=False)
    assert not any(fired)
    assert all(s == {"a": False} for s in states)


@given(trig=triggers(for_s=True), ss=scores)
def test_state_is_small_json_and_restores_exactly(trig: Trigger, ss: list[float]) -> None:
    state: dict[str, Any] | None = None
    for i, s in enumerate(ss):
        t = T0 + timedelta(seconds=45 * i)
        restored = json.loads(json.dumps(state)) if state is not None else None
        a = trig.step(state, s, t)
        b = trig.step(restored, s, t)
        assert a == b
        state = a[0]
        assert len(json.dumps(state)) < 64


def test_out_of_order_time_does_not_fire_early() -> None:
    trig = Trigger(threshold=0.5, clear=0.0, for_s=60)
    state, fired = trig.step(None, 0.9, T0 + timedelta(minutes=5))
    assert not fired
    state, fired = trig.step(state, 0.9, T0)  # a late, earlier reading
    assert not fired
    state, fired = trig.step(state, 0.9, T0 + timedelta(minutes=6))
    assert fired


def test_from_params_fills_in_the_defaults() -> None:
    default = Trigger(threshold=0.99, clear=0.9)
    assert Trigger.from_params({}, default) == default
    assert Trigger.from_params({"for_s": 60}, default) == Trigger(0.99, 0.9, 60.0)
    assert Trigger.from_params({"threshold": 0.7, "clear": 0.2}) == Trigger(0.7, 0.2, 0.0)
    assert Trigger.from_params({}) == Trigger()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"threshold": 1.5}, r"threshold must be in \[0, 1\]"),
        ({"threshold": -0.1}, r"threshold must be in \[0, 1\]"),
        ({"threshold": 0.5, "clear": 0.6}, r"clear must be in \[0, threshold\]"),
        ({"clear": -0.1}, r"clear must be in \[0, threshold\]"),
        ({"for_s": -1}, "for_s must be >= 0"),
        ({"hold": 3}, r"trigger: unknown parameters \['hold'\]"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Trigger.from_params(params)
