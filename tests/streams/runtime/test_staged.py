"""Staged tables (runtime/staged.py): they read like the table, and write it at the flush.

Broker-free, on a plain table that records its changelog. What a handler relies
on: every read sees its own writes at once; what a restart relies on: after a
flush the table and the last changelog record of each key are what was written,
each key sent once per flush, to the partition of the event that wrote it.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.runtime.staged import Plain, StagedTable

KEYS = st.sampled_from(["a", "b", "c", "d"])
OPS = st.lists(
    st.tuples(st.sampled_from(["set", "del", "flush"]), KEYS, st.integers(0, 3)), max_size=40
)


@given(start=st.dictionaries(KEYS, st.integers(0, 3)), ops=OPS)
def test_a_staged_table_reads_like_a_dict_and_its_changelog_replays_to_it(
    start: dict[str, int], ops: list[tuple[str, str, int]]
) -> None:
    plain = Plain()
    plain.data.update(start)
    model = dict(start)
    partition = {"a": 0, "b": 1, "c": 0, "d": 1}
    table = StagedTable(plain, partition=lambda key: partition[key])
    for op, key, value in ops:
        if op == "set":
            table[key] = model[key] = value
        elif op == "del" and key in model:
            del table[key]
            del model[key]
        elif op == "flush":
            sent = len(plain.changelog)
            table.flush()
            keys = [k for _, k, _ in plain.changelog[sent:]]
            assert len(keys) == len(set(keys))  # once per key per flush
        assert dict(table.items()) == model and len(table) == len(model)
        assert all((k in table) == (k in model) for k in "abcd")
    table.flush()
    assert plain.data == model and table.staged == 0
    replayed = dict(start)
    for part, key, value in plain.changelog:
        assert part == partition[key]
        if value is None:
            replayed.pop(key, None)
        else:
            replayed[key] = value
    assert replayed == model


def test_an_unchanged_value_is_not_sent_again() -> None:
    plain = Plain()
    table = StagedTable(plain, partition=lambda key: 0)
    table["a"] = {"x": 1}
    assert table.flush() == 1
    table["a"] = {"x": 1}
    assert table.flush() == 0 and len(plain.changelog) == 1
    del table["a"]
    assert table.flush() == 1 and plain.changelog[-1] == (0, "a", None)


def test_a_write_through_table_writes_at_once_as_faust_would() -> None:
    plain = Plain()
    table = StagedTable(plain, write_through=True)
    table["a"] = 1
    assert plain.data == {"a": 1} and plain.changelog == [(None, "a", 1)] and table.staged == 0
    del table["a"]
    assert plain.data == {} and plain.changelog[-1] == (None, "a", None)


def test_what_a_checkpoint_took_is_read_until_it_is_written() -> None:
    plain = Plain()
    table = StagedTable(plain, partition=lambda key: 0)
    table["a"], table["b"] = 1, 2
    write = table.take()  # the checkpoint waits for the outputs of the events that wrote them
    table["b"] = 3  # a later event, for the next checkpoint
    assert (table["a"], table["b"], sorted(table)) == (1, 3, ["a", "b"])
    assert plain.data == {} and table.staged == 1
    assert write() == 2 and plain.data == {"a": 1, "b": 2} and table["b"] == 3
    assert table.flush() == 1 and plain.data == {"a": 1, "b": 3}
