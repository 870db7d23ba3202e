"""The README is a front door and ``docs/`` holds the rest; every link in them resolves.

Not in the event flow: it keeps the documentation of the flow honest. The README
stays under 200 lines with the two commands on its first screen and a link to
each file of ``docs/``; every relative link and ``#anchor`` in the README and
``docs/`` points at a file and a heading that exist (anchors as GitHub makes
them); every repository path written in inline code names a file or folder that
exists, so a moved module cannot leave a stale reference behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
REQUIRED = (
    "architecture",
    "operations",
    "contracts",
    "detection",
    "benchmarks",
    "tools",
    "testing",
)
PAGES = [README, *sorted(DOCS.glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`\n]+)`")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
_REPO_PATH = re.compile(r"^(?:streams|schemas|tests|benchmarks|deploy|docs)/[\w./-]*$")


def prose(text: str) -> str:
    """The page without its fenced code blocks."""
    return _FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces → hyphens.

    >>> slug("Orders: alert → order → closed loop")
    'orders-alert--order--closed-loop'
    >>> slug("End to end: `yujing bench`")
    'end-to-end-yujing-bench'
    """
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in _HEADING.findall(prose(page.read_text(encoding="utf-8"))):
        base = slug(heading)
        name, n = base, 0
        while name in found:  # GitHub numbers repeated headings: x, x-1, x-2
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def links(page: Path) -> list[str]:
    return _LINK.findall(prose(page.read_text(encoding="utf-8")))


def test_the_readme_is_a_front_door_of_at_most_200_lines() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move the rest to docs/"
    first_screen = "\n".join(lines[:40])
    for command in ("make demo", "make test"):
        assert re.search(rf"^{command}\s", first_screen, re.M), f"{command} not on the first screen"


@pytest.mark.parametrize("name", REQUIRED)
def test_each_docs_file_exists_and_the_readme_links_it(name: str) -> None:
    page = DOCS / f"{name}.md"
    assert page.is_file(), f"docs/{name}.md is missing"
    assert page.read_text(encoding="utf-8").startswith("# "), f"docs/{name}.md has no title"
    targets = {t.split("#", 1)[0] for t in links(README)}
    assert f"docs/{name}.md" in targets, f"README.md does not link docs/{name}.md"


def test_every_page_of_docs_is_linked_from_the_readme() -> None:
    targets = {t.split("#", 1)[0] for t in links(README)}
    unlinked = [p.name for p in DOCS.glob("*.md") if f"docs/{p.name}" not in targets]
    assert not unlinked, f"README.md does not link {unlinked}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not checked here
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading with that anchor in {dest.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_in_inline_code_exists(page: Path) -> None:
    missing = []
    for span in _CODE.findall(prose(page.read_text(encoding="utf-8"))):
        for token in span.split():
            token = token.rstrip(".,;:)")
            if not _REPO_PATH.match(token):
                continue
            if any(ch in token for ch in "*<>…"):
                continue
            if not (ROOT / token).exists():
                missing.append(token)
    assert not missing, f"{page.name} names paths that do not exist: {sorted(set(missing))}"


def test_the_slug_matches_the_anchors_the_docs_use() -> None:
    assert "yujingpartitionstuck" in anchors(DOCS / "operations.md")
    assert "dead-letters-inspect-and-re-drive" in anchors(DOCS / "operations.md")
