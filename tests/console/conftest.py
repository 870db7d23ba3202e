"""Fixtures for the operator console's browser tests: a real worker, a real chromium.

``console_stack(...)`` starts a stack (sinks + worker on the broker, its own topic
prefix, the default district model, the clock at speed 60) that lives for the whole
module, with a web token the page must send; ``browser`` is a headless chromium
(skipped only when chromium or its driver is not installed: :func:`browser.missing`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from browser import chrome, missing
from selenium.webdriver.remote.webdriver import WebDriver
from support import Stack, make_stack

#: the workers' YUJING_WEB_TOKEN: the page reads it from its URL's fragment
TOKEN = "console-test-token-0123456789"


@pytest.fixture(scope="module")
def console_stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Stack]]:
    """Start stacks for this module (each on fresh topics); all stopped at its end."""
    stacks: list[Stack] = []

    def start(**env: str) -> Stack:
        prefix = f"t{uuid.uuid4().hex[:8]}."
        tmp = tmp_path_factory.mktemp("console-stack")
        stack = make_stack(kafka_bootstrap, prefix, tmp, env={"YUJING_WEB_TOKEN": TOKEN, **env})
        stacks.append(stack)
        return stack.start()

    yield start
    for stack in stacks:
        stack.stop()
        if stack.worker is not None:
            print(stack.worker.log_tail(40))


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    driver = chrome()
    try:
        yield driver
    finally:
        driver.quit()
