"""Merging the risk map of several workers (streams.core.alerts.riskmap), without a broker."""

from __future__ import annotations

from typing import Any

import pytest

from streams.core.alerts.riskmap import merge_maps, merge_scope_alerts


def answer(partition: int, scopes: dict[str, tuple[str, list[str]]]) -> dict[str, Any]:
    return {
        "partitions": [partition],
        "watermarks": {},
        "scopes": {
            s: {"kind": "town", "level": lv, "open_alerts": len(ids), "alert_ids": ids}
            for s, (lv, ids) in scopes.items()
        },
    }


def test_an_alert_held_by_two_workers_counts_once_and_levels_take_the_maximum() -> None:
    # one signal sits in the windows of its cell (worker A) and its town (worker B)
    a = answer(0, {"town:t": ("medium", ["single-1"]), "cell:c": ("medium", ["single-1"])})
    b = answer(1, {"town:t": ("critical", ["single-1", "compound-9"]), "cell:c": ("none", [])})
    merged = merge_maps([a, b])
    assert merged["partitions"] == [0, 1]
    assert merged["scopes"]["town:t"] == {"kind": "town", "level": "critical", "open_alerts": 2}
    assert merged["scopes"]["cell:c"] == {"kind": "town", "level": "medium", "open_alerts": 1}


def test_a_scope_only_one_worker_has_seen_is_kept() -> None:
    merged = merge_maps([answer(0, {"place:p": ("high", ["s"])}), answer(1, {})])
    assert merged["scopes"]["place:p"]["level"] == "high"


def test_counts_without_ids_cannot_be_merged() -> None:
    bare = answer(0, {"town:t": ("low", ["x"])})
    del bare["scopes"]["town:t"]["alert_ids"]
    with pytest.raises(ValueError, match=r"/map\?ids=1"):
        merge_maps([bare])


def test_scope_alerts_merge_by_id_latest_version_most_severe_first() -> None:
    def alert(aid: str, version: int, level: str) -> dict[str, Any]:
        return {"alert_id": aid, "version": version, "level": level, "kind": "compound"}

    a = {"partitions": [0], "kind": "town", "alerts": [alert("x", 1, "low")]}
    b = {
        "partitions": [1],
        "kind": "town",
        "alerts": [alert("x", 2, "high"), alert("y", 1, "medium")],
    }
    merged = merge_scope_alerts("town:t", [a, b])
    assert [(m["alert_id"], m["version"]) for m in merged["alerts"]] == [("x", 2), ("y", 1)]
    assert merged["level"] == "high" and merged["partitions"] == [0, 1]
    assert merge_scope_alerts("town:t", [])["level"] == "none"
