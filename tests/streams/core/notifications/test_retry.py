"""Backoff: no wait before the first attempt, then exponential, capped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.notifications.retry import Backoff

backoffs = st.builds(
    Backoff,
    base_s=st.floats(min_value=0.0, max_value=10.0),
    factor=st.floats(min_value=1.0, max_value=10.0),
    max_s=st.floats(min_value=0.0, max_value=60.0),
    max_attempts=st.integers(min_value=1, max_value=20),
)


def test_the_documented_schedule() -> None:
    b = Backoff(base_s=0.2, factor=2.0, max_s=1.0, max_attempts=5)
    assert [b.delay(n) for n in range(1, 7)] == [0.0, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_defaults() -> None:
    b = Backoff()
    assert (b.base_s, b.factor, b.max_s, b.max_attempts) == (0.2, 2.0, 30.0, 5)
    assert b.delay(2) == 0.2


@given(b=backoffs)
def test_the_first_attempt_is_immediate(b: Backoff) -> None:
    assert b.delay(1) == 0.0
    assert b.delay(0) == 0.0
    assert b.delay(-3) == 0.0


@given(b=backoffs, n=st.integers(min_value=1, max_value=200))
def test_delays_are_monotone_non_decreasing(b: Backoff, n: int) -> None:
    assert b.delay(n) <= b.delay(n + 1)


@given(b=backoffs, n=st.integers(min_value=1, max_value=200))
def test_delays_are_capped_and_non_negative(b: Backoff, n: int) -> None:
    d = b.delay(n)
    assert isinstance(d, float)
    assert 0.0 <= d <= b.max_s


@given(b=backoffs, n=st.integers(min_value=2, max_value=30))
def test_uncapped_delays_grow_by_the_factor(b: Backoff, n: int) -> None:
    expected = b.base_s * b.factor ** (n - 2)
    assert b.delay(n) == pytest.approx(min(b.max_s, expected))


def test_backoff_is_immutable() -> None:
    with pytest.raises(AttributeError):
        Backoff().max_attempts = 9  # type: ignore[misc]


def test_very_late_attempts_are_still_capped() -> None:
    assert Backoff(max_attempts=5000).delay(2000) == 30.0
