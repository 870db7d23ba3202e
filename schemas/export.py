"""Generate the committed JSON Schema files, one per topic, for downstream systems.

``python -m schemas.export`` rewrites ``schemas/jsonschema/``; a test fails
when the committed files differ from what the models produce.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from schemas.registry import TOPICS

OUT_DIR = Path(__file__).parent / "jsonschema"


def render() -> dict[str, str]:
    """File name → JSON text for every topic."""
    files: dict[str, str] = {}
    for name, spec in TOPICS.items():
        doc = spec.schema.model_json_schema(mode="serialization")
        doc = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:yujing:topic:{name}",
            "x-topic": name,
            "x-key-field": spec.key_field,
            "description": spec.description,
            **{k: v for k, v in doc.items() if k != "description"},
        }
        files[f"{name}.json"] = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return files


def write(out_dir: Path = OUT_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fname, text in render().items():
        path = out_dir / fname
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in out_dir.glob("*.json"):
        if stale.name not in render():
            stale.unlink()
    return written


if __name__ == "__main__":
    for p in write():
        print(p, file=sys.stdout)
