"""EW mean/variance: the three-number building block of the learned detectors."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.signals.detectors.ewstats import EW

alphas = st.floats(min_value=0.001, max_value=0.999)
values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def direct(alpha: float, xs: list[float]) -> tuple[float, float]:
    """Weighted mean and (biased) variance with the EW weights, written out.

    The first value is the initial mean, so it keeps weight ``(1 - alpha)^(n-1)``;
    value ``i`` (1-based, ``i >= 2``) has weight ``alpha (1 - alpha)^(n-i)``. They sum to 1.
    """
    n = len(xs)
    w = [(1 - alpha) ** (n - 1)] + [alpha * (1 - alpha) ** (n - i) for i in range(2, n + 1)]
    mean = math.fsum(wi * x for wi, x in zip(w, xs, strict=True))
    var = math.fsum(wi * (x - mean) ** 2 for wi, x in zip(w, xs, strict=True))
    return mean, var


def fed(alpha: float, xs: list[float]) -> EW:
    s = EW(alpha)
    for x in xs:
        s.update(x)
    return s


@given(alpha=alphas, xs=st.lists(values, min_size=1, max_size=60))
def test_matches_a_direct_weighted_computation(alpha: float, xs: list[float]) -> None:
    s = fed(alpha, xs)
    mean, var = direct(alpha, xs)
    scale = max(1.0, max(abs(x) for x in xs))
    assert s.n == len(xs)
    assert s.mean == pytest.approx(mean, rel=1e-9, abs=1e-9 * scale)
    assert s.var == pytest.approx(var, rel=1e-7, abs=1e-9 * scale**2)
    assert s.std == pytest.approx(math.sqrt(var), rel=1e-6, abs=1e-6 * scale)


def test_the_first_value_is_the_mean_and_there_is_no_variance_yet() -> None:
    s = fed(0.3, [7.5])
    assert (s.n, s.mean, s.var, s.std) == (1, 7.5, 0.0, 0.0)


def test_empty() -> None:
    s = EW(0.1)
    assert (s.n, s.mean, s.var, s.std) == (0, 0.0, 0.0, 0.0)


@given(alpha=alphas, x=values, n=st.integers(min_value=1, max_value=200))
def test_a_constant_stream_has_its_value_as_mean_and_no_variance(
    alpha: float, x: float, n: int
) -> None:
    s = fed(alpha, [x] * n)
    assert s.mean == x
    assert s.var == 0.0


@given(alpha=alphas, xs=st.lists(values, max_size=40), more=st.lists(values, max_size=10))
def test_list_round_trip_through_json_is_exact(
    alpha: float, xs: list[float], more: list[float]
) -> None:
    s = fed(alpha, xs)
    data = json.loads(json.dumps(s.to_list()))
    r = EW.from_list(alpha, data)
    assert r == s
    assert isinstance(r.n, int) and isinstance(r.mean, float) and isinstance(r.var, float)
    for x in more:  # and it goes on identically
        s.update(x)
        r.update(x)
    assert r == s


def test_std_never_fails_on_a_slightly_negative_variance() -> None:
    assert EW(0.5, mean=1.0, var=-1e-18, n=3).std == 0.0
