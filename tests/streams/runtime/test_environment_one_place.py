"""The process environment is read in one place: streams/runtime/settings.py.

Everything else gets its settings from there (typed, validated, a bad value named),
so that no variable is read twice with two meanings. The one other use allowed is
handing this environment on to a child process (streams/dev/runner.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

STREAMS = Path(__file__).resolve().parents[3] / "streams"
SETTINGS = "streams/runtime/settings.py"
#: Files that may pass ``{**os.environ, ...}`` to a child process.
CHILD_ENV = {"streams/dev/runner.py"}
#: Reads in files only the lead edits, to be switched to Settings (then this entry goes):
#: `yujing demo` and the start-up broker check ask whether YUJING_KAFKA_BOOTSTRAP is set.

_READERS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _environment_reads(path: Path, rel: str) -> list[tuple[int, str]]:
    """(line, what) of each use of the process environment in one module (``rel``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    os_names = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names |= {a.asname or a.name for a in node.names if a.name == "os"}
    child_env = {
        id(value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for key, value in zip(node.keys, node.values, strict=True)
        if key is None  # {**os.environ, ...}: an environment for a child process
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [(node.lineno, f"os.{a.name}") for a in node.names if a.name in _READERS]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in _READERS
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
            and not (rel in CHILD_ENV and id(node) in child_env)
        ):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return sorted(found)


def test_the_environment_is_read_only_by_the_settings_module() -> None:
    reads = {}
    for path in sorted(STREAMS.rglob("*.py")):
        rel = path.relative_to(STREAMS.parent).as_posix()
        if rel != SETTINGS and (found := _environment_reads(path, rel)):
            reads[rel] = found
    assert SETTINGS not in reads
    assert not reads, f"read the environment through streams.runtime.settings: {reads}"


def test_the_check_sees_each_way_of_reading_the_environment(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nimport os as o\nfrom os import getenv\n"
        "a = os.environ.get('X')\nb = o.getenv('Y')\nc = {**os.environ}\nos.environ['Z'] = '1'\n"
        "d = os.path.join(os.sep, 'environ')\n"
    )
    assert [line for line, _ in _environment_reads(module, "streams/m.py")] == [3, 4, 5, 6, 7]
    # a child's environment is allowed where child processes are started
    assert [line for line, _ in _environment_reads(module, "streams/dev/runner.py")] == [3, 4, 5, 7]
