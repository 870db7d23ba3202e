"""Phone numbers in clear: where a run left them (topics' log segments, logs, state).

Issue 15's scan. A number is "in clear" when a run of digits that looks like an
E.164 number (8-15 digits, with or without the leading ``+``) is one of the
parties' own numbers, or carries the ``+`` whatever it is. Masked numbers
(``+861********02``) have no such run. The broker writes records uncompressed
here (no producer of the project compresses), so scanning its log segments on
disk scans every topic's raw bytes, changelogs and offsets included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from streams.core.orders.routing import load_routing
from streams.core.shared.directory import Directory
from streams.core.shared.regions import RegionIndex

#: A candidate: 8-15 digits, maybe after a '+', not inside a longer run of digits.
CANDIDATE = re.compile(rb"(?<![0-9])\+?[0-9]{8,15}(?![0-9])")


def known_numbers(regions: RegionIndex, routes: Path | None = None) -> set[bytes]:
    """Every number a run could deliver to (digits only): the directory's and the routes'."""
    phones = [p.phone for p in Directory(regions)]
    config = load_routing(routes) if routes is not None else load_routing()
    phones += [r.phone for r in config.receivers if r.phone is not None]
    return {p.lstrip("+").encode() for p in phones}


@dataclass(frozen=True)
class Finding:
    path: Path
    offset: int
    masked: str  # never the number itself: a failing test's output must not leak it

    def __str__(self) -> str:
        return f"{self.path} @ {self.offset}: {self.masked}"


def _mask(number: bytes) -> str:
    text = number.decode()
    return text[:4] + "*" * max(0, len(text) - 6) + text[-2:]


def in_clear(data: bytes, known: set[bytes]) -> Iterator[tuple[int, bytes]]:
    """Where ``data`` holds a number in clear: (offset, the number).

    >>> known = {b"8657100000003"}
    >>> [(i, n) for i, n in in_clear(b'{"to":"+8657100000003","ts":1764670000000}', known)]
    [(7, b'+8657100000003')]
    >>> list(in_clear(b'{"to":"+865********03","n":86571000000031}', known))
    []
    >>> [n for _, n in in_clear(b"ntf-8657100000003", known)]
    [b'8657100000003']
    """
    for m in CANDIDATE.finditer(data):
        number = m.group()
        if number.startswith(b"+") or number in known:
            yield m.start(), number


def scan(roots: Iterable[Path], known: set[bytes]) -> tuple[list[Finding], dict[Path, int]]:
    """Every number in clear in the files under ``roots``, and the bytes read per root."""
    found: list[Finding] = []
    read: dict[Path, int] = {}
    for root in roots:
        read[root] = 0
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            data = path.read_bytes()
            read[root] += len(data)
            found += [Finding(path, at, _mask(n)) for at, n in in_clear(data, known)]
    return found, read
