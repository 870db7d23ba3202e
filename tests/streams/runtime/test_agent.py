"""The agents' commit helpers (runtime/agent.py): what a handler's state becomes once committed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.runtime.agent import store, store_all

KEYS = st.sampled_from(["a", "b", "c", "d"])


@given(st.dictionaries(KEYS, st.integers()), st.dictionaries(KEYS, st.none() | st.integers()))
def test_store_all_writes_values_and_deletes_nones(
    table: dict[str, int], writes: dict[str, int | None]
) -> None:
    before = dict(table)
    commit = store_all(table, writes)
    assert table == before  # nothing moves until the outputs are on the broker
    commit()
    expected = {k: v for k, v in ({**before, **writes}).items() if v is not None}
    assert table == expected


def test_store_writes_only_a_new_value() -> None:
    table = {"k": 1}
    store(table, "k", None)()
    store(table, "k", 1, old=1)()
    assert table == {"k": 1}
    store(table, "k", 2, old=1)()
    assert table == {"k": 2}
