"""The runtime context (runtime/context.py) agents get, broker-free on an unstarted worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry

from streams.runtime.app import create_pipeline
from streams.runtime.context import Context
from streams.runtime.settings import Settings


def _context(tmp_path: Path) -> Context:
    settings = Settings.from_env(environ={}, data_dir=tmp_path, partitions=3)
    return create_pipeline(settings, registry=CollectorRegistry()).context


def test_a_table_is_made_once_with_json_and_the_settings_partitions(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    table = ctx.table("orders")
    assert ctx.table("orders") is table
    faust_table = table.table  # behind the stage that holds writes until the checkpoint
    assert faust_table.partitions == 3
    assert (faust_table.key_serializer, faust_table.value_serializer) == ("json", "json")


def test_shared_objects_are_made_once_per_worker(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    made: list[object] = []

    def make() -> object:
        made.append(object())
        return made[-1]

    first = ctx.shared("a-test-object", make)
    assert ctx.shared("a-test-object", make) is first
    assert made == [first]


def test_revoke_and_shutdown_hooks_run_plain_and_async_callbacks(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    calls: list[str] = []

    async def closing() -> None:
        calls.append("async revoke")

    async def shutdown() -> None:
        calls.append("shutdown")

    ctx.on_revoke(lambda: calls.append("revoke"))
    ctx.on_revoke(closing)
    ctx.on_shutdown(shutdown)

    async def run() -> None:
        await ctx._app.on_partitions_revoked.send(set())
        assert sorted(calls) == ["async revoke", "revoke"]
        await ctx._app.on_before_shutdown.send()

    asyncio.run(run())
    assert calls[-1] == "shutdown"
