"""A test-lint: no "sleep, then assert nothing was duplicated or lost" in a scenario.

The project's rule: a no-duplicate or no-loss assertion waits for a sentinel or
for consumer lag 0 and fails if it saw nothing — never a fixed sleep then assert,
which on a slow runner passes without having seen the outputs (issue 11, item 7).

What this checks, on the source of every ``test_*`` function of every
integration test module (``pytestmark = pytest.mark.integration``, or the mark
on the function) under ``tests/``, nested functions included:

- it **sleeps for a fixed time**: ``time.sleep(x)`` / ``asyncio.sleep(x)`` /
  ``sleep(x)`` where ``x`` is a constant expression above zero (number literals,
  arithmetic on them, names bound to them at module level);
- and it **asserts no duplicate / no loss**: its source mentions duplicates,
  "twice", "exactly once/one", lost/lose/loss, or one of its ``assert``
  statements has the shape of one (``len(...) == 1``, ``... == 1``,
  ``len(set(...))``, ``n > 1``);
- and it calls **none of the approved waits**: ``wait_processed`` or
  ``wait_settled`` (lag 0 on the source topics, ``tests/lib/support.py``) or
  ``Stack.settle``.

Such a function fails the lint. What it does not see: sleeps or assertions in
helpers the test calls, sleeps for a computed time (waiting for a clock to reach
a deadline is legitimate, e.g. ``Stack.wait_until_simulated``), and unit tests,
whose code runs in-process with no broker between the input and the output. A
sleep that is not the wait for outputs (pacing inputs, staying down past a
deadline) is fine as long as the assertion also has a proper wait.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
APPROVED_WAITS = frozenset({"wait_processed", "wait_settled", "settle"})
_WORDS = re.compile(
    r"duplicat|twice|exactly[ _-]?once|exactly[ _-]?one\b|\blost\b|\blose\b|\bloss\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    path: str
    function: str
    line: int  # of the fixed sleep

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.function} sleeps for a fixed time and asserts "
            f"no duplicate / no loss without {' / '.join(sorted(APPROVED_WAITS))}"
        )


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _constant(node: ast.expr, constants: dict[str, float]) -> float | None:
    """The value of a constant numeric expression, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _constant(node.operand, constants)
        if inner is None:
            return None
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _constant(node.left, constants), _constant(node.right, constants)
        if left is None or right is None:
            return None
        ops = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}
        if type(node.op) in ops:
            return ops[type(node.op)]
        if isinstance(node.op, ast.Div) and right:
            return left / right
    return None


def _module_constants(tree: ast.Module) -> dict[str, float]:
    out: dict[str, float] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            number = _constant(value, out)
            if number is not None:
                out[target.id] = number
    return out


def _is_integration_mark(node: ast.expr) -> bool:
    return "mark.integration" in ast.unparse(node)


def _module_is_integration(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return _is_integration_mark(node.value)
    return False


def _asserts_no_duplicate(fn: ast.FunctionDef | ast.AsyncFunctionDef, source: str) -> bool:
    asserts = [n for n in ast.walk(fn) if isinstance(n, ast.Assert)]
    if not asserts:
        return False
    if _WORDS.search(ast.get_source_segment(source, fn) or ""):
        return True
    for a in asserts:
        for node in ast.walk(a.test):
            if isinstance(node, ast.Compare):
                for op, right in zip(node.ops, node.comparators, strict=True):
                    one = isinstance(right, ast.Constant) and right.value == 1
                    if one and isinstance(op, ast.Eq | ast.Gt):
                        return True
            if (
                isinstance(node, ast.Call)
                and _called_name(node) == "len"
                and node.args
                and isinstance(node.args[0], ast.Call)
                and _called_name(node.args[0]) == "set"
            ):
                return True
    return False


def findings(source: str, path: str = "<test>") -> list[Finding]:
    """The test functions of one module that break the rule (see the module docstring)."""
    tree = ast.parse(source)
    constants = _module_constants(tree)
    whole_module = _module_is_integration(tree)
    found: list[Finding] = []
    functions = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test_")
    ]
    for fn in functions:
        if not (whole_module or any(_is_integration_mark(d) for d in fn.decorator_list)):
            continue
        calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
        if any(_called_name(c) in APPROVED_WAITS for c in calls):
            continue
        sleeps = [
            c
            for c in calls
            if _called_name(c) == "sleep"
            and len(c.args) == 1
            and (_constant(c.args[0], constants) or 0.0) > 0
        ]
        if sleeps and _asserts_no_duplicate(fn, source):
            found.append(Finding(path, fn.name, sleeps[0].lineno))
    return found


# --- the lint itself -----------------------------------------------------------------


def test_no_scenario_sleeps_then_asserts_no_duplicate_or_loss() -> None:
    files = sorted(TESTS.rglob("test_*.py"))
    assert len(files) > 20, "the lint found no test files: it would prove nothing"
    problems = [str(f) for p in files for f in findings(p.read_text(), str(p.relative_to(ROOT)))]
    assert problems == [], "\n".join(problems)


# --- and the lint's own tests: it catches what it is for -----------------------------

SLEEPY = """
import time
import pytest

pytestmark = pytest.mark.integration
PAUSE = 1.5

def test_one_sms(stack):
    messages = wait_for(stack.sms_messages)
    time.sleep(2.0)  # a duplicate would show up by now
    assert len(stack.sms_messages()) == 1

def test_counter(stack):
    wait_for(stack.breaches)
    time.sleep(PAUSE * 2)
    assert [k for k, n in Counter(stack.breaches()).items() if n > 1] == []

async def test_keys(stack):
    await asyncio.sleep(1)
    keys = stack.keys()
    assert len(keys) == len(set(keys))
"""


def test_the_lint_flags_a_fixed_sleep_before_a_no_duplicate_assertion() -> None:
    assert [f.function for f in findings(SLEEPY)] == ["test_one_sms", "test_counter", "test_keys"]
    assert findings(SLEEPY)[0].line == 10


def test_the_lint_accepts_an_approved_wait_a_computed_sleep_or_no_such_assertion() -> None:
    settled = SLEEPY.replace("time.sleep(2.0)", "stack.settle()")
    assert [f.function for f in findings(settled)] == ["test_counter", "test_keys"]
    waited = SLEEPY.replace("await asyncio.sleep(1)", "wait_processed(b, g, topics)")
    assert "test_keys" not in [f.function for f in findings(waited)]
    computed = SLEEPY.replace("time.sleep(2.0)", "time.sleep(max(0.0, deadline - time.time()))")
    assert "test_one_sms" not in [f.function for f in findings(computed)]
    yielding = SLEEPY.replace("asyncio.sleep(1)", "asyncio.sleep(0)")
    assert "test_keys" not in [f.function for f in findings(yielding)]
    pacing = "import time\npytestmark = pytest.mark.integration\n" + (
        "def test_pace(s):\n    time.sleep(1.0)\n    assert s.state() == 'open'\n"
    )
    assert findings(pacing) == []


def test_the_lint_looks_at_integration_tests_only() -> None:
    unit = SLEEPY.replace("pytestmark = pytest.mark.integration", "")
    assert findings(unit) == []
    marked = unit.replace("def test_one_sms", "@pytest.mark.integration\ndef test_one_sms")
    assert [f.function for f in findings(marked)] == ["test_one_sms"]


def test_the_lint_would_have_caught_the_scenarios_it_was_written_for() -> None:
    # the waits of issue 11 as they were (before `Stack.settle`), in their own words
    before = (
        "import time\npytestmark = pytest.mark.integration\n"
        "def test_breach_survives_kill_9_and_is_published_exactly_once(stack):\n"
        "    stack.start_worker()\n    time.sleep(4.0)\n"
        "    stages = Counter(b.stage for b in breaches_of(stack, order.order_id))\n"
        "    assert stages['signed'] == 1, stages\n"
    )
    assert len(findings(before)) == 1
