"""The AsyncAPI 3.0 document of every topic, generated from the topic registry.

Downstream systems (field-worker app, case management, dashboards) read one
document: each topic is a channel with its Kafka key, its message and that
message's JSON Schema (the same schema as ``schemas/jsonschema/``), and an
operation saying whether the pipeline receives it (readings, department
events, dispatch updates) or sends it. Internal topics say so in their
description. ``yujing schemas`` (or ``python -m schemas.asyncapi``) rewrites
``schemas/asyncapi.yaml``; a test fails when the committed file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from schemas.registry import TOPICS

OUT_PATH = Path(__file__).parent / "asyncapi.yaml"
ASYNCAPI_VERSION = "3.0.0"
DOC_VERSION = "1.0.0"
#: Topics the pipeline reads from the outside world; it sends every other one.
INPUTS = frozenset(
    {
        "yujing.readings.v1",
        "yujing.reading-batches.v1",
        "yujing.department-events.v1",
        "yujing.dispatch-updates.v1",
    }
)
_KAFKA_BINDING = "0.5.0"


def _channel_id(topic: str) -> str:
    return topic.removeprefix("yujing.").replace(".", "-")


def _hoist(schema: dict[str, Any], into: dict[str, Any], owner: str) -> dict[str, Any]:
    """Move pydantic's ``$defs`` into ``components/schemas`` and point the refs there."""
    for name, definition in schema.pop("$defs", {}).items():
        definition = _rewrite(definition)
        if name in into and into[name] != definition:
            raise ValueError(f"{owner}: schema {name!r} differs from another model's {name!r}")
        into[name] = definition
    return _rewrite(schema)


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                v.replace("#/$defs/", "#/components/schemas/")
                if k == "$ref" and isinstance(v, str)
                else _rewrite(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def build() -> dict[str, Any]:
    """The document as a plain dict (deterministic: registry order, sorted schemas)."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic, spec in TOPICS.items():
        model = spec.schema.__name__
        payload = spec.schema.model_json_schema(mode="serialization")
        schemas[model] = _hoist(payload, schemas, model)
        messages[model] = {
            "name": model,
            "title": model,
            "summary": (spec.schema.__doc__ or model).strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{model}"},
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "description": f"The event's `{spec.key_field}` field (UTF-8).",
                    },
                    "bindingVersion": _KAFKA_BINDING,
                }
            },
        }
        cid = _channel_id(topic)
        channels[cid] = {
            "address": topic,
            "title": topic,
            "description": spec.description,
            "messages": {model: {"$ref": f"#/components/messages/{model}"}},
            "bindings": {"kafka": {"topic": topic, "bindingVersion": _KAFKA_BINDING}},
        }
        action = "receive" if topic in INPUTS else "send"
        operations[f"{action}-{cid}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": f"yujing {'reads' if action == 'receive' else 'publishes'} {topic}.",
            "messages": [{"$ref": f"#/channels/{cid}/messages/{model}"}],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "yujing event topics",
            "version": DOC_VERSION,
            "description": (
                "Every Kafka topic of the yujing early-warning pipeline: sensor readings and "
                "department records in; risk signals, alerts, dispatch orders, order status, "
                "SLA breaches, notifications, receipts and dead letters out. Events are JSON "
                "(never pickle), strict, versioned by `schema_version` and by the topic name's "
                "`.vN` suffix; ids are deterministic, so a replay gives the same ids. Topic "
                "names may carry a deployment prefix (`YUJING_TOPIC_PREFIX`)."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "`yujing broker start` (KRaft, single node).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    header = "# Generated by `yujing schemas` from schemas/registry.py: do not edit by hand.\n"
    # JSON round trip: plain types only, so the YAML has no Python tags
    doc = json.loads(json.dumps(build()))
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def write(path: Path = OUT_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write(), file=sys.stdout)
