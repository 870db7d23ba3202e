"""The committed AsyncAPI document is exactly what the registry produces, and it holds together."""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from schemas import asyncapi
from schemas.registry import TOPICS

REGENERATE = "run `yujing schemas` (or `python -m schemas.asyncapi`) and commit the result"


def test_committed_document_is_current() -> None:
    committed = asyncapi.OUT_PATH.read_text(encoding="utf-8")
    rendered = asyncapi.render()
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            rendered.splitlines(keepends=True),
            "committed/asyncapi.yaml",
            "rendered/asyncapi.yaml",
            n=1,
        )
    )
    assert committed == rendered, f"schemas/asyncapi.yaml is stale; {REGENERATE}\n{diff[:4000]}"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in _refs(v)
        ]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_topic_is_a_channel_with_its_key_and_message() -> None:
    doc = yaml.safe_load(asyncapi.OUT_PATH.read_text(encoding="utf-8"))
    assert doc["asyncapi"] == "3.0.0"
    by_address = {c["address"]: c for c in doc["channels"].values()}
    assert set(by_address) == set(TOPICS)
    for topic, spec in TOPICS.items():
        channel = by_address[topic]
        (ref,) = [m["$ref"] for m in channel["messages"].values()]
        message = _resolve(doc, ref)
        assert spec.key_field in message["bindings"]["kafka"]["key"]["description"]
        payload = _resolve(doc, message["payload"]["$ref"])
        expected = spec.schema.model_json_schema(mode="serialization")
        assert set(payload["properties"]) == set(expected["properties"])
        assert payload.get("required") == expected.get("required")
    actions = {op["action"] for op in doc["operations"].values()}
    assert actions == {"send", "receive"}
    received = {
        _resolve(doc, op["channel"]["$ref"])["address"]
        for op in doc["operations"].values()
        if op["action"] == "receive"
    }
    assert received == set(asyncapi.INPUTS)


def test_every_reference_resolves() -> None:
    doc = yaml.safe_load(asyncapi.OUT_PATH.read_text(encoding="utf-8"))
    refs = _refs(doc)
    assert len(refs) > len(TOPICS) * 3
    for ref in refs:
        assert _resolve(doc, ref) is not None, ref
    assert not [r for r in refs if "$defs" in r]
