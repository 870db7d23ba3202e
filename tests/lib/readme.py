"""The README's blocks that tests run verbatim: ``<!-- tested verbatim by ... (NAME) -->``."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block(name: str) -> str:
    """The ``sh`` block that follows the README's ``tested verbatim ... (NAME)`` marker."""
    text = README.read_text(encoding="utf-8")
    marker = re.search(rf"<!-- tested verbatim by [^\n]*\({re.escape(name)}\) -->\n", text)
    assert marker, f"README.md has no block marked {name}"
    block = re.compile(r"```sh\n(.*?)```", re.S).match(text, marker.end())
    assert block, f"README.md: the {name} marker is not followed by a ```sh block"
    return block.group(1)
