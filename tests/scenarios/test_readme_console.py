"""The README's ``make demo CONSOLE=1``, typed as a newcomer types it, ends on a live console.

The README block marked ``README_CONSOLE`` runs verbatim as a bash script in the
checkout (``make`` needs its Makefile), with nothing of this test session's
environment: no ``YUJING_KAFKA_BOOTSTRAP``, so the demo starts its own local broker
with no topics, in a data home (``YUJING_HOME``) and on ports of this test's own.
When the demo has printed its results and the console's address, a real headless
chromium opens that address and must show, through the DOM, what the demo's worker
holds: the scopes its alerts raised coloured at their levels and those alerts listed,
each with its order's countdown. Then Ctrl-C (SIGINT to the script's process group)
must stop the worker and the stubs and end the demo with its success line.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import chrome, js, missing, wait_until
from readme import newcomer_env, readme_block
from support import wait_for

from streams.dev.runner import get_json

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONSOLE_LINE = re.compile(r"operator console: (http://127\.0\.0\.1:\d+/console)")


@pytest.fixture
def demo_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = newcomer_env(BIN, YUJING_HOME=str(tmp_path / "home"))
    try:
        yield env
    finally:
        subprocess.run(
            [str(BIN / "yujing"), "broker", "stop"], env=env, capture_output=True, timeout=60
        )


def test_make_demo_console_leaves_a_console_that_shows_the_demo(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    block = readme_block("README_CONSOLE")
    assert "make demo CONSOLE=1" in block
    log = tmp_path / "console-block.log"
    with open(log, "wb") as out:
        script = subprocess.Popen(
            ["bash", "-c", block],
            cwd=ROOT,
            env=demo_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:

        def address() -> str | None:
            if script.poll() is not None:
                raise AssertionError(f"the demo exited ({script.returncode}):\n{log.read_text()}")
            found = CONSOLE_LINE.search(log.read_text(errors="replace"))
            return found.group(1) if found else None

        url = wait_for(address, timeout=300, what="the demo to print the console's address")
        text = log.read_text(errors="replace")
        assert "✓ demo complete" in text, text
        assert url.endswith(f":{demo_env['YUJING_WEB_PORT']}/console")
        alerts = int(re.search(r"^ALERTS \((\d+)\)", text, re.M).group(1))  # type: ignore[union-attr]
        assert alerts > 0

        base = url.removesuffix("/console")
        status, body = get_json(f"{base}/map?ids=1")
        assert status == 200
        raised = {  # what the map draws: district to grid cell, and industries (not sites)
            s: v["level"]
            for s, v in body["scopes"].items()
            if v["level"] != "none" and v["kind"] != "place"
        }
        assert raised, "the demo's worker holds no alert on its map"

        driver = chrome()
        try:
            driver.get(url)
            wait_until(driver, lambda d: int(js(d, "return +document.body.dataset.updated||0")) > 0)
            shown = js(
                driver,
                "const o = {}; document.querySelectorAll('[data-scope][data-level]')"
                ".forEach(e => { if (e.dataset.level !== 'none') o[e.dataset.scope] = "
                "e.dataset.level; }); return o;",
            )
            assert shown == raised
            listed = wait_until(
                driver,
                lambda d: (
                    js(
                        d,
                        "return [...document.querySelectorAll('#alerts li[data-alert-id]')]"
                        ".map(e => e.dataset.alertId)",
                    )
                    or None
                ),
                what="the demo's alerts in the list",
            )
            assert len(listed) == len(set(listed)) == alerts
            deadlines = wait_until(
                driver,
                lambda d: (
                    js(
                        d,
                        "return [...document.querySelectorAll('[data-order-id][data-deadline]')]"
                        ".map(e => e.querySelector('.countdown').textContent)",
                    )
                    or None
                ),
                what="the orders' countdowns",
            )
            assert all(re.fullmatch(r"-?\d\d:\d\d:\d\d", c) for c in deadlines), deadlines
        finally:
            driver.quit()

        os.killpg(script.pid, signal.SIGINT)  # Ctrl-C at the terminal (make says "Interrupt")
        script.wait(60)
        assert "stopping the worker and the stubs" in log.read_text()

        def stopped() -> bool:
            try:
                get_json(f"{base}/ready", timeout=1)
                return False
            except OSError:
                return True

        wait_for(stopped, timeout=30, what="the demo's worker to stop serving")
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
