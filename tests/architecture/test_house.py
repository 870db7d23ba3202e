"""The house rules of issue 11, checked on the code itself (no broker).

No import cycle anywhere in ``streams`` or ``schemas`` — counting imports inside
functions and under ``TYPE_CHECKING`` (grimp, which import-linter builds on, sees
both) —, no module over 400 lines, and every agent's adapter at most 30 lines.
The layer and independence contracts themselves run in ``make lint``
(import-linter, contracts in ``pyproject.toml``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_ADAPTER_LINES = 30


def _cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # iterative Tarjan: the graph is deep
        nonlocal counter
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.get(node, ()):
                        found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert _cycles({"a": ["b"], "b": []}) == []


def test_there_is_no_import_cycle_in_streams_or_schemas() -> None:
    graph = grimp.build_graph("streams", "schemas")
    imports = {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            # a module importing its own package's __init__ is how Python loads it
            if not module.startswith(imported + ".")
        }
        for module in graph.modules
    }
    assert _cycles(imports) == []


def _python_files() -> list[Path]:
    return sorted(p for d in ("streams", "schemas") for p in (ROOT / d).rglob("*.py"))


def test_no_module_is_longer_than_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _python_files()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_every_agent_adapter_is_at_most_30_lines() -> None:
    sizes: dict[str, int] = {}
    for path in sorted((ROOT / "streams" / "runtime" / "agents").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                sizes[f"{path.name}:{node.name}"] = node.end_lineno - node.lineno + 1
    assert sizes, "no adapters found"
    assert {k: v for k, v in sizes.items() if v > MAX_ADAPTER_LINES} == {}
