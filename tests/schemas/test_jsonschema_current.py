"""The committed JSON Schema files are exactly what the models produce."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from schemas import export
from schemas.registry import TOPICS

REGENERATE = "run `yujing schemas` (or `python -m schemas.export`) and commit the result"


def _committed() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(export.OUT_DIR.glob("*.json"))}


def test_committed_files_are_exactly_the_rendered_set() -> None:
    committed, rendered = set(_committed()), set(export.render())
    missing, stale = sorted(rendered - committed), sorted(committed - rendered)
    assert not missing and not stale, (
        f"schemas/jsonschema/ is out of date (missing: {missing}, stale: {stale}); {REGENERATE}"
    )


def test_committed_files_have_exactly_the_rendered_content() -> None:
    committed = _committed()
    outdated = []
    for name, text in export.render().items():
        if committed.get(name) != text:
            diff = "".join(
                difflib.unified_diff(
                    (committed.get(name) or "").splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"committed/{name}",
                    f"rendered/{name}",
                    n=1,
                )
            )
            outdated.append(diff)
    assert not outdated, f"schemas/jsonschema/ differs from the models; {REGENERATE}\n" + "\n".join(
        outdated
    )


def test_rendered_files_describe_their_topic() -> None:
    rendered = export.render()
    assert set(rendered) == {f"{name}.json" for name in TOPICS}
    for name, spec in TOPICS.items():
        doc = json.loads(rendered[f"{name}.json"])
        assert doc["$id"] == f"urn:yujing:topic:{name}"
        assert doc["x-topic"] == name
        assert doc["x-key-field"] == spec.key_field
        assert doc["x-key-field"] in doc["properties"]
        assert doc["description"] == spec.description
        assert doc["additionalProperties"] is False
        assert "event_time" in doc["required"]
        # the topic name's version is the schema's (the versioning policy)
        assert doc["properties"]["schema_version"]["const"] == int(name.rsplit(".v", 1)[1])


def test_render_is_deterministic() -> None:
    assert export.render() == export.render()


def test_write_creates_the_files_and_removes_stale_ones(tmp_path: Path) -> None:
    stale = tmp_path / "yujing.retired.v1.json"
    stale.write_text("{}", encoding="utf-8")
    keep = tmp_path / "README.txt"
    keep.write_text("not a schema", encoding="utf-8")

    written = export.write(tmp_path)

    rendered = export.render()
    assert sorted(p.name for p in written) == sorted(rendered)
    assert not stale.exists()
    assert keep.exists()
    for name, text in rendered.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text
