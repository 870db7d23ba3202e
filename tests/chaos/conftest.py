"""Fixtures for the chaos suite (real yujing processes against real Kafka), and its summary:
every scenario's figures printed together at the end of the run."""

from typing import Any

from chaos import REPORTED
from stacks import make_stack_env, stack_factory

__all__ = ["make_stack_env", "stack_factory"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPORTED:
        terminalreporter.section("chaos suite: what each fault cost")
        for line in REPORTED:
            terminalreporter.write_line(line)
