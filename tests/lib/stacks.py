"""Fixtures for tests that run real yujing processes against real Kafka (scenarios, chaos).

Imported by ``tests/scenarios/conftest.py`` and ``tests/chaos/conftest.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import Stack, make_stack

StackFactory = Callable[..., Stack]


@pytest.fixture
def stack_factory(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackFactory]:
    """Start stacks (sinks + worker) on fresh topics; all stopped after the test.

    ``stack_factory(env={...}, sinks_args=[...])``: the worker runs a simulated
    clock (see ``support.make_stack``) unless ``env`` overrides it.
    """
    stacks: list[Stack] = []

    def start(**kwargs: Any) -> Stack:
        prefix = f"t{uuid.uuid4().hex[:8]}."
        stack = make_stack(kafka_bootstrap, prefix, tmp_path_factory.mktemp("stack"), **kwargs)
        stacks.append(stack)
        return stack.start()

    yield start
    for stack in stacks:
        stack.stop()
        if stack.worker is not None:
            print(stack.worker.log_tail(40))


@pytest.fixture
def make_stack_env(stack_factory: StackFactory) -> Callable[..., Stack]:
    """Shorthand: ``make_stack_env(YUJING_X="...")`` starts a stack with those settings.

    Its clock runs at wall speed (SLA deadlines stay minutes away), for tests
    about detection and delivery rather than the closed loop.
    """

    def start(**env: str) -> Stack:
        return stack_factory(env={"YUJING_CLOCK_SPEED": "1", **env})

    return start
