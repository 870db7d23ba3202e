"""A real headless browser for page tests: Debian's chromium driven by selenium.

:func:`chrome` starts ``chromium --headless=new`` through its chromedriver (both
found on the machine, never downloaded: selenium's driver manager is not asked);
:func:`missing` says why it cannot (the only reason a browser test may skip).
:func:`wait_until` polls the page (a predicate over the DOM) until it holds or a
deadline passes, so assertions never rest on a fixed sleep; when it fails it says
what it waited for, the last value it saw and what the page logged.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

T = TypeVar("T")

#: where Debian puts them (``apt-get install chromium chromium-driver``), then PATH
BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
DRIVERS = ("/usr/bin/chromedriver", "chromedriver")


def _find(candidates: Iterable[str], env: str) -> str | None:
    chosen = os.environ.get(env, "").strip()
    for name in ([chosen] if chosen else []) + list(candidates):
        path = name if os.path.isabs(name) else shutil.which(name)
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def chromium_binary() -> str | None:
    """The chromium to run (``YUJING_CHROMIUM`` first), or None."""
    return _find(BROWSERS, "YUJING_CHROMIUM")


def chromedriver_binary() -> str | None:
    """Its chromedriver (``YUJING_CHROMEDRIVER`` first), or None."""
    return _find(DRIVERS, "YUJING_CHROMEDRIVER")


def missing() -> str | None:
    """Why no browser test can run here (None when chromium and its driver are there).

    >>> missing() is None or "apt-get install" in missing()
    True
    """
    gone = [
        name
        for name, path in (("chromium", chromium_binary()), ("chromedriver", chromedriver_binary()))
        if path is None
    ]
    if not gone:
        return None
    return (
        f"no {' and no '.join(gone)} on this machine "
        "(Debian: apt-get install chromium chromium-driver; .ci/run installs them)"
    )


def chrome(width: int = 1400, height: int = 1000, args: Iterable[str] = ()) -> WebDriver:
    """A headless chromium (new headless mode, no sandbox: CI runs as root in a
    container; no /dev/shm: it is small there), its console log kept for failures."""
    binary, driver = chromium_binary(), chromedriver_binary()
    if binary is None or driver is None:
        raise RuntimeError(missing())
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        f"--window-size={width},{height}",
        *args,
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def console_log(driver: WebDriver) -> list[str]:
    """What the page wrote to its console (and its uncaught errors) since last asked."""
    try:
        return [f"{e.get('level')}: {e.get('message')}" for e in driver.get_log("browser")]
    except WebDriverException:
        return []


def wait_until(
    driver: WebDriver,
    predicate: Callable[[WebDriver], T],
    timeout: float = 20.0,
    what: str | Callable[[], str] = "the page",
    every: float = 0.1,
) -> T:
    """Poll ``predicate(driver)`` until it returns something truthy (returned) or
    ``timeout`` seconds pass (AssertionError naming ``what``, the last value or error,
    and the page's console; ``what`` may be a function, asked then, to say what
    differs). A DOM re-rendered under the predicate (a stale element) or a script
    error counts as "not yet"."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = predicate(driver)
            if value:
                return value
            last = value
        except (StaleElementReferenceException, WebDriverException) as exc:
            last = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if time.monotonic() >= deadline:
            log = "\n  ".join(console_log(driver)[-20:]) or "(nothing)"
            said = what() if callable(what) else what
            raise AssertionError(
                f"timed out after {timeout:.0f} s waiting for {said}; last: {last!r}\n"
                f"page console:\n  {log}"
            )
        time.sleep(every)


def js(driver: WebDriver, script: str, *args: Any) -> Any:
    """Run ``script`` in the page (``return ...`` for a value)."""
    return driver.execute_script(script, *args)


def screenshot(driver: WebDriver, *paths: Path | str) -> list[Path]:
    """The page as PNG at each of ``paths`` (directories made): the paths written."""
    png = driver.get_screenshot_as_png()
    out = []
    for p in paths:
        path = Path(p)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        out.append(path)
    return out
