"""The counting histogram exposes what prometheus-client's histogram exposes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram

from streams.runtime.histogram import CountingHistogram

BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 1e-3, 0.1)


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for m in registry.collect()
        for s in m.samples
        if not s.name.endswith("_created")
    }


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["rate", "likelihood"]),
            st.one_of(st.sampled_from(BUCKETS), st.floats(0, 1, allow_nan=False)),
        ),
        max_size=60,
    )
)
def test_same_samples_as_prometheus_client(observations: list[tuple[str, float]]) -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    h1 = Histogram("t_seconds", "doc", ["kind"], buckets=BUCKETS, registry=theirs)
    h2 = CountingHistogram("t_seconds", "doc", ["kind"], BUCKETS, ours)
    for kind, value in observations:
        h1.labels(kind).observe(value)
        h2.labels(kind).observe(value)
    a, b = samples(theirs), samples(ours)
    assert a.keys() == b.keys()
    for key, value in a.items():
        assert b[key] == pytest.approx(value), key


def test_a_child_is_kept_and_label_counts_are_checked() -> None:
    h = CountingHistogram("u_seconds", "doc", ["stage"], (0.1,), CollectorRegistry())
    assert h.labels("detect") is h.labels("detect")
    with pytest.raises(ValueError, match="expected labels"):
        h.labels("a", "b")
