"""Fixtures for integration tests that run real yujing processes against real Kafka."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import Stack

from streams.broker import find_free_port
from streams.kafka_io import ensure_topics
from streams.runner import spawn, wait_http


@pytest.fixture()
def make_stack(
    kafka_bootstrap: str, unique_prefix: str, tmp_path: Path
) -> Iterator[Callable[..., Stack]]:
    stacks: list[Stack] = []

    def make(**env_overrides: str) -> Stack:
        prefix = f"{unique_prefix}{len(stacks)}."
        sms_port, web_port = find_free_port(), find_free_port()
        env = {
            "YUJING_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "YUJING_APP_ID": f"yujing-{prefix.rstrip('.')}",
            "YUJING_TOPIC_PREFIX": prefix,
            "YUJING_WEB_PORT": str(web_port),
            "YUJING_SMS_URL": f"http://127.0.0.1:{sms_port}",
            "YUJING_DATA_DIR": str(tmp_path / prefix / "worker"),
            **env_overrides,
        }
        stack = Stack(
            bootstrap=kafka_bootstrap,
            prefix=prefix,
            env=env,
            logs=tmp_path / prefix,
            sms=f"http://127.0.0.1:{sms_port}",
            web=f"http://127.0.0.1:{web_port}",
        )
        stacks.append(stack)
        ensure_topics(kafka_bootstrap, prefix, partitions=2)
        stack.sinks = spawn("sinks", ["sinks", "--sms-port", str(sms_port)], env, stack.logs)
        wait_http(stack.sinks, f"{stack.sms}/healthz", timeout=30)
        stack.start_worker()
        return stack

    yield make
    for stack in stacks:
        for child in (stack.worker, stack.sinks):
            if child is not None:
                child.stop()
        if stack.worker is not None:
            print(stack.worker.log_tail(40))
