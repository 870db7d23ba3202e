"""The operator console's page (``/console``) as the browser tests read it: the DOM only.

:func:`console_url` opens the page with the workers' web token in its fragment;
:func:`updated` and :func:`refreshed` follow its refresh counter; :func:`dom_levels`,
:func:`dom_alerts` and :func:`dom_orders` read the map's levels, the alerts list and
the orders; :func:`select` clicks a scope; :func:`label_boxes` and
:func:`label_faults` measure the map's labels; :func:`seconds_left` reads a countdown.
The ground truth they are checked against: :func:`risk_signal` makes a signal at a
place, :class:`Truth` derives every alert it raises (single-risk and systemic, by the
core's own rules: :class:`scope_scenario.Run`) and the level of every scope, and
:func:`level_mismatches` compares the two. For the load test, :data:`WATCH` marks when
the page is drawn, coloured, refreshed and listed, and :func:`load_once` times a load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from browser import js, wait_until
from scope_scenario import Run
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from support import Stack

from schemas import RiskSignal
from streams.core.alerts.rules import LEVELS
from streams.core.alerts.single import alert_id_for
from streams.core.orders.create import order_id_for
from streams.core.shared.catalogue import load_catalogue
from streams.core.shared.ids import stable_id
from streams.core.shared.regions import RegionIndex

#: the page's refresh period in the tests (ms)
POLL_MS = 500


def risk_signal(risk_point: str, place: str, at: datetime, n: int = 0) -> RiskSignal:
    rp = load_catalogue().risk_point(risk_point)
    src = f"ev-{risk_point}-{place}-{n}"
    return RiskSignal(
        signal_id=stable_id("sig", risk_point, src, at.isoformat()),
        risk_point=risk_point,
        module=rp.module,
        detector_id=f"threshold.{risk_point}",
        detector_version=1,
        source_key=f"sensor-{risk_point}-{place}",
        place_id=place,
        severity=rp.severity,  # type: ignore[arg-type]
        emergency=rp.emergency,
        score=1.0,
        threshold=1.0,
        indicators={"value": 42.0},
        source_event_ids=[src],
        event_time=at,
        detected_at=at,
    )


@dataclass
class Truth:
    """What the map must show for the signals published: alert id → (level, scopes)."""

    index: RegionIndex
    signals: list[RiskSignal] = field(default_factory=list)
    alerts: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def chain(self, place: str) -> list[str]:
        loc = self.index.locate(place)
        industry = [f"industry:{loc.industry}"] if loc is not None and loc.industry else []
        return self.index.ancestors(place) + industry

    def add(self, *signals: RiskSignal) -> Truth:
        self.signals.extend(signals)
        self.alerts = {
            alert_id_for(s.signal_id): (s.severity, self.chain(s.place_id)) for s in self.signals
        }
        for a in Run(index=self.index).feed(*self.signals).latest().values():
            if a.scope_kind == "place":
                scopes = self.chain(a.scope)
            elif a.scope_kind == "industry":
                scopes = [f"industry:{a.scope}"]
            else:
                scopes = self.index.ancestors(a.scope)
            self.alerts[a.alert_id] = (a.level, scopes)
        return self

    def open_alerts(self, scope: str) -> set[str]:
        return {a for a, (_, scopes) in self.alerts.items() if scope in scopes}

    def level(self, scope: str) -> str:
        levels = [self.alerts[a][0] for a in self.open_alerts(scope)]
        return max(levels, key=LEVELS.index) if levels else "none"


@dataclass
class Scenario:
    stack: Stack
    truth: Truth
    url: str

    def order_of(self, signal: RiskSignal) -> str:
        return order_id_for(alert_id_for(signal.signal_id))


def seconds_left(text: str) -> float | None:
    """A countdown's text as seconds (negative once overdue), None if it has no time.

    >>> seconds_left("04:59"), seconds_left("1:02:03"), seconds_left("in 23h 59m 58s")
    (299.0, 3723.0, 86398.0)
    >>> seconds_left("-00:12"), seconds_left("overdue 2m 5s"), seconds_left("1d 2h")
    (-12.0, -125.0, 93600.0)
    >>> seconds_left("—") is None
    True
    """
    t = text.strip().lower()
    sign = (
        -1.0
        if t.startswith(("-", "\u2212")) or "overdue" in t or "ago" in t or "late" in t
        else 1.0
    )
    clock = re.search(r"(\d+):(\d{2})(?::(\d{2}))?", t)
    if clock:
        parts = [int(g) for g in clock.groups() if g is not None]
        total = 0
        for p in parts:
            total = total * 60 + p
        return sign * total
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    found = re.findall(r"(\d+)\s*([dhms])\b", t)
    if not found:
        return None
    return sign * float(sum(int(n) * units[u] for n, u in found))


# --- the page, through the DOM -------------------------------------------------------


def console_url(stack: Stack, poll_ms: int = POLL_MS) -> str:
    """The page, refreshing every ``poll_ms``, with the workers' web token in its fragment."""
    token = stack.settings().web_token
    assert token is not None, "the console stacks run with a web token"
    return f"{stack.web}/console?poll={poll_ms}#token={token.get_secret_value()}"


def updated(driver: WebDriver) -> int:
    return int(js(driver, "return Number(document.body.dataset.updated || 0)") or 0)


def refreshed(driver: WebDriver, timeout: float = 20.0) -> int:
    """Wait for a refresh that started after this call (data read now): its counter."""
    before = updated(driver)
    return wait_until(
        driver, lambda d: updated(d) >= before + 2 and updated(d), timeout, "a refresh"
    )


def dom_levels(driver: WebDriver) -> dict[str, str]:
    return js(
        driver,
        "const out = {}; for (const e of document.querySelectorAll('[data-scope][data-level]'))"
        " out[e.dataset.scope] = e.dataset.level; return out;",
    )


def dom_alerts(driver: WebDriver) -> list[str]:
    return js(
        driver,
        "return [...document.querySelectorAll('#alerts li[data-alert-id]')]"
        ".map(e => e.dataset.alertId);",
    )


def dom_orders(driver: WebDriver) -> dict[str, dict[str, Any]]:
    """Order id → its deadline, countdown text and breached stages (as the DOM says)."""
    return js(
        driver,
        """const out = {};
        for (const e of document.querySelectorAll('[data-order-id][data-deadline]')) {
          const c = e.querySelector('.countdown');
          out[e.dataset.orderId] = {
            deadline: e.dataset.deadline,
            countdown: c ? c.textContent : null,
            breached: [...e.querySelectorAll('[data-breached="true"]')].map(
              s => s.dataset.stage || s.textContent.trim()),
          };
        }
        return out;""",
    )


def select(driver: WebDriver, scope: str, mouse: bool = False) -> None:
    """Select ``scope`` by clicking its element: with ``mouse``, a real click at its
    centre (what lies on top there: a rectangle within it, which selects it when the
    map shows its parent); else a click event on the element itself (the page's own
    handler, wherever the map is zoomed)."""
    el = wait_until(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-scope="{scope}"]'),
        20,
        f"the scope {scope} on the page",
    )[0]
    if mouse:
        ActionChains(driver).move_to_element(el).click().perform()
    else:
        js(
            driver,
            "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true, view: window}))",
            el,
        )
    wait_until(
        driver,
        lambda d: js(
            d,
            "return document.querySelector(arguments[0]).classList.contains('selected')",
            f'[data-scope="{scope}"]',
        ),
        10,
        lambda: (
            f"{scope} selected (selected: "
            + repr(
                js(
                    driver,
                    "return [...document.querySelectorAll('[data-scope].selected')]"
                    ".map(e => e.dataset.scope)",
                )
            )
            + ")"
        ),
    )


def level_mismatches(truth: Truth, levels: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {s: (lv, truth.level(s)) for s, lv in levels.items() if lv != truth.level(s)}


def label_boxes(driver: WebDriver) -> list[dict[str, Any]]:
    """Each map label's box and its scope's rectangle, in the map's user units."""
    return js(
        driver,
        """return [...document.querySelectorAll('#map-svg .labels text')].map(t => {
          const b = t.getBBox();
          const r = document.querySelector(
            '[data-scope="' + CSS.escape(t.dataset.labelFor) + '"] rect').getBBox();
          return {scope: t.dataset.labelFor, box: [b.x, b.y, b.width, b.height],
                  rect: [r.x, r.y, r.width, r.height]};
        });""",
    )


def label_faults(labels: list[dict[str, Any]]) -> list[str]:
    """Labels wider or taller than their rectangle, and pairs of labels that overlap."""
    faults = []
    for lab in labels:
        (x, y, w, h), (rx, ry, rw, rh) = lab["box"], lab["rect"]
        if x < rx - 0.5 or y < ry - 0.5 or x + w > rx + rw + 0.5 or y + h > ry + rh + 0.5:
            faults.append(f"{lab['scope']} outside its rectangle")
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            (ax, ay, aw, ah), (bx, by, bw, bh) = a["box"], b["box"]
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                faults.append(f"{a['scope']} overlaps {b['scope']}")
    return faults


# --- load timings ---------------------------------------------------------------------

#: injected before the page's own script: marks (performance.now(), ms since the
#: navigation began) when the map is drawn, coloured, refreshed, the alerts listed and
#: their orders shown
WATCH = """
window.__yj = {};
(function () {
  const want = {drawn: %(scopes)d, coloured: %(coloured)d, listed: %(alerts)d, orders: %(alerts)d};
  const count = {
    drawn: () => document.querySelectorAll('[data-scope]').length,
    coloured: () => document.querySelectorAll(
      '[data-scope][data-level]:not([data-level="none"])').length,
    updated: () => document.body ? Number(document.body.dataset.updated || 0) : 0,
    listed: () => document.querySelectorAll('#alerts li[data-alert-id]').length,
    orders: () => document.querySelectorAll('[data-order-id][data-deadline]').length,
  };
  want.updated = 1;
  function tick() {
    const m = window.__yj;
    for (const k in count)
      if (m[k] === undefined && count[k]() >= want[k]) m[k] = performance.now();
    if (Object.keys(m).length < Object.keys(count).length) requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
})();
"""
MARKS = ("drawn", "coloured", "updated", "listed", "orders")


def load_once(driver: WebDriver, url: str) -> dict[str, Any]:
    driver.get("about:blank")
    driver.get(url)
    marks = wait_until(
        driver,
        lambda d: (m := js(d, "return window.__yj")) and len(m) == len(MARKS) and m,
        60,
        lambda: f"every mark of {MARKS}: {js(driver, 'return window.__yj')}",
    )
    nav = js(driver, "return performance.getEntriesByType('navigation')[0].toJSON()")
    resources = js(
        driver,
        "return performance.getEntriesByType('resource').map(r => ({name: r.name, "
        "ms: r.duration, bytes: r.encodedBodySize || r.transferSize}));",
    )
    return {
        "html_response_end_ms": round(nav["responseEnd"], 1),
        "dom_content_loaded_ms": round(nav["domContentLoadedEventEnd"], 1),
        "load_event_ms": round(nav["loadEventEnd"], 1),
        **{f"{k}_ms": round(marks[k], 1) for k in MARKS},
        "resources": [
            {"name": r["name"].split("/", 3)[-1][:60], "ms": round(r["ms"], 1), "bytes": r["bytes"]}
            for r in resources
        ],
        "scope_elements": js(driver, "return document.querySelectorAll('[data-scope]').length"),
        "dom_nodes": js(driver, "return document.getElementsByTagName('*').length"),
    }
