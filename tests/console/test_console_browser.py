"""The operator console (``/console``) in a real headless chromium, over a real worker.

A stack (sinks + worker on the broker, its own topics, the default district model:
12 towns, 150 communities, 1,500 grid cells; the clock at speed 60, so an emergency
order's 5-minute "signed" deadline passes 5 wall seconds after it) with a web token
the page must send (``#token=`` in its URL). The scenario publishes risk signals at
known places, so its ground truth is known: one single-risk alert per signal at its
place (raising the place's cell, community, town, district and industry) and the
systemic alerts the core's own rule engine derives from the same signals
(:class:`scope_scenario.Run`). Through the DOM only:

* every scope rectangle is coloured at the level the ground truth gives it (and the
  worker's ``/map`` agrees);
* selecting a town lists exactly its open alerts (the ground truth's, and the
  worker's ``/map/{town}/alerts``); clicking one shows its portrait;
* selecting a calm scope after a busy one empties the alerts list;
* the map's labels fit their rectangles and do not overlap;
* an order's countdown goes down, on the worker's (simulated) clock; an unsigned
  emergency order's breached stage is marked (and is the breach on the topic) and its
  countdown is negative; a non-emergency one is neither;
* a signal published while the page is open shows up without a reload;
* ``yujing console`` over the worker shows the same map and alerts, and over the
  worker and one that does not answer says so, naming it, in ``#status``.

A screenshot of the scenario's page goes to the test's tmp dir, and to
``$YUJING_CONSOLE_SCREENSHOT`` when set. The page is read through
:mod:`console_page`; the load test is in ``test_console_load.py``.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser import js, screenshot, wait_until
from console_page import (
    POLL_MS,
    Scenario,
    Truth,
    console_url,
    dom_alerts,
    dom_levels,
    dom_orders,
    label_boxes,
    label_faults,
    level_mismatches,
    refreshed,
    risk_signal,
    seconds_left,
    select,
    updated,
)
from districts import default_regions
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from support import Stack

from schemas import SlaBreach
from schemas.registry import SLA_BREACHES
from streams.core.alerts.single import alert_id_for
from streams.dev.broker import find_free_port
from streams.dev.runner import spawn

pytestmark = pytest.mark.integration

#: the scenario: (risk point, place); levels and modules from the catalogue
GAS = ("restaurant_gas_leak", "site.linping.c01.restaurant-01")  # critical, emergency
TRUCK = ("overloaded_truck", "cell.linping.c02.01")  # medium, not an emergency
SMOKE = ("smoke_in_rental_flat", "site.wuchang.c01.rental-flat-01")  # high, emergency
LATE = ("smoke_in_rental_flat", "site.renhe.c01.rental-flat-01")  # published with the page open


# --- the scenario -------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario(console_stack: Callable[..., Stack]) -> Scenario:
    stack = console_stack()
    truth = Truth(default_regions())
    now = stack.clock()
    signals = [
        risk_signal(rp, place, now + timedelta(seconds=i))
        for i, (rp, place) in enumerate((GAS, TRUCK, SMOKE))
    ]
    truth.add(*signals)
    stack.produce(*signals)
    # the worker holds them: every alert is open on the map, every order tracked
    for town in ("linping", "wuchang"):
        want = truth.open_alerts(town)
        stack.wait_for(
            lambda town=town, want=want: {a["alert_id"] for a in alerts_page(stack, town)} == want,
            90,
            f"{town}'s open alerts {sorted(want)} on the worker's map",
        )
    ids = ",".join(alert_id_for(s.signal_id) for s in signals)
    stack.wait_for(
        lambda: len(stack.page(f"/orders?alert={ids}")[1]["orders"]) == len(signals),
        60,
        "an order for every single alert",
    )
    return Scenario(stack, truth, console_url(stack))


def alerts_page(stack: Stack, scope: str) -> list[dict[str, Any]]:
    status, body = stack.page(f"/map/{scope}/alerts")
    assert status == 200, body
    return body["alerts"]


@pytest.fixture(scope="module")
def page(scenario: Scenario, browser: WebDriver) -> WebDriver:
    browser.get(scenario.url)
    wait_until(browser, updated, 30, "the first refresh (body[data-updated])")
    return browser


def test_every_scope_is_coloured_at_its_level(scenario: Scenario, page: WebDriver) -> None:
    truth, index = scenario.truth, scenario.truth.index
    drawn = {
        s for s, k in index.kind.items() if k in ("district", "town", "community", "grid_cell")
    }
    levels = wait_until(
        page,
        lambda d: (
            (lv := dom_levels(d)) and drawn <= set(lv) and not level_mismatches(truth, lv) and lv
        ),
        20,
        lambda: (
            "every scope at its level; (shown, truth): "
            + repr(dict(list(level_mismatches(truth, dom_levels(page)).items())[:10]))
            + f"; not drawn: {sorted(drawn - set(dom_levels(page)))[:10]}"
        ),
    )
    assert len(levels) >= len(drawn) == 1 + 12 + 150 + 1500
    coloured = {s: lv for s, lv in levels.items() if lv != "none"}
    # the scenario's places, and nothing else, are coloured
    assert coloured["linping"] == "critical" and coloured["wuchang"] == "high"
    assert coloured["cell.linping.c02.01"] == "medium" and coloured["linping.c02"] == "medium"
    towns = {s for s, k in index.kind.items() if k == "town"}
    assert {t for t in towns if t in coloured} == {"linping", "wuchang"}
    # and the worker's own map says the same
    status, body = scenario.stack.page("/map")
    assert status == 200
    assert {s: e["level"] for s, e in body["scopes"].items() if s in levels} == levels
    # the trend chart is an SVG
    assert js(
        page,
        "const t = document.querySelector('#trend'); return t && "
        "(t.tagName.toLowerCase() === 'svg' || !!t.querySelector('svg'))",
    )


@pytest.mark.parametrize("town", ["linping", "wuchang", "renhe"])
def test_selecting_a_town_lists_exactly_its_open_alerts(
    scenario: Scenario, page: WebDriver, town: str
) -> None:
    # the map shows the whole district at first: a town is selected by a mouse click
    select(page, town, mouse=town == "linping")
    want = scenario.truth.open_alerts(town)
    assert {a["alert_id"] for a in alerts_page(scenario.stack, town)} == want
    if want:
        listed = wait_until(
            page,
            lambda d: set(dom_alerts(d)) == want and dom_alerts(d),
            20,
            lambda: f"{town}'s open alerts {sorted(want)} listed (listed: {dom_alerts(page)})",
        )
        assert len(listed) == len(want), listed  # each once
    else:  # a calm town: after a refresh or two with it selected, still nothing listed
        refreshed(page)
        assert dom_alerts(page) == []


def test_a_calm_scope_after_a_busy_one_lists_nothing(scenario: Scenario, page: WebDriver) -> None:
    select(page, "linping")
    want = scenario.truth.open_alerts("linping")
    wait_until(page, lambda d: set(dom_alerts(d)) == want, 20, "linping's alerts listed")
    select(page, "renhe")  # no open alert there: the list must not keep linping's
    wait_until(
        page,
        lambda d: dom_alerts(d) == [] and d.find_elements(By.CSS_SELECTOR, "#alerts [data-empty]"),
        10,
        lambda: f"an empty list for renhe (listed: {dom_alerts(page)})",
    )


@pytest.mark.parametrize("scope", ["yuhang", "linping"])
def test_the_map_labels_fit_and_do_not_overlap(
    scenario: Scenario, page: WebDriver, scope: str
) -> None:
    district = scenario.truth.index.district
    select(page, district if scope == "yuhang" else scope)
    labels = wait_until(page, label_boxes, 10, f"labels on the map at {scope}")
    assert len(labels) >= 5, labels  # most towns (or communities) named
    assert label_faults(labels) == []


def test_an_alert_shows_its_portrait(scenario: Scenario, page: WebDriver) -> None:
    select(page, "linping")
    gas = alert_id_for(scenario.truth.signals[0].signal_id)
    wait_until(page, lambda d: gas in dom_alerts(d), 20, f"the gas alert {gas} listed")
    js(page, f"document.querySelector('#alerts li[data-alert-id=\"{gas}\"]').click()")
    status, alert = scenario.stack.page(f"/alerts/{gas}")
    assert status == 200, alert
    text = wait_until(
        page,
        lambda d: (t := d.find_element(By.ID, "portrait").text) and GAS[1] in t and t,
        20,
        f"the portrait of {gas} naming its place {GAS[1]}",
    )
    assert js(page, "return document.getElementById('portrait').dataset.alertId") == gas
    # what the worker says of it, shown: its summary, level and risk point
    assert alert["summary"] in text and GAS[0] in text, text
    assert alert["level"] == "critical" and "critical" in text, text


def test_an_order_counts_down(scenario: Scenario, page: WebDriver) -> None:
    select(page, "linping")
    truck = scenario.order_of(scenario.truth.signals[1])
    first = wait_until(
        page,
        lambda d: (o := dom_orders(d).get(truck)) and o["countdown"] and o,
        20,
        f"the truck's order {truck} with a countdown",
    )
    assert datetime.fromisoformat(first["deadline"].replace("Z", "+00:00"))
    start = seconds_left(first["countdown"])
    assert start is not None and start > 0, first  # 24 h to sign a non-emergency order
    later = wait_until(
        page,
        lambda d: (
            (s := seconds_left(dom_orders(d)[truck]["countdown"] or "")) is not None
            and s < start
            and s
        ),
        5,
        f"the countdown going down from {first['countdown']!r}",
    )
    assert later < start


def test_an_unsigned_emergency_order_shows_its_breach(scenario: Scenario, page: WebDriver) -> None:
    select(page, "linping")
    gas, truck = (scenario.order_of(s) for s in scenario.truth.signals[:2])
    breached = wait_until(
        page,
        lambda d: (o := dom_orders(d).get(gas)) and "signed" in " ".join(o["breached"]) and o,
        30,
        f"the gas order {gas} marked breached at 'signed'",
    )
    on_topic = {b.stage for b in scenario.stack.read(SLA_BREACHES, SlaBreach) if b.order_id == gas}
    assert "signed" in on_topic, on_topic
    assert all(any(st in b for st in on_topic) for b in breached["breached"]), (breached, on_topic)
    assert dom_orders(page)[truck]["breached"] == []  # 24 h to sign it: nothing breached
    # on the worker's clock (60 times the wall's): past the gas order's deadline, not the truck's
    orders = dom_orders(page)
    gas_left, truck_left = (seconds_left(orders[o]["countdown"] or "") for o in (gas, truck))
    assert gas_left is not None and gas_left < 0, orders[gas]
    assert truck_left is not None and truck_left > 0, orders[truck]


def test_a_new_alert_appears_without_a_reload(scenario: Scenario, page: WebDriver) -> None:
    stack, truth = scenario.stack, scenario.truth
    select(page, "renhe")
    wait_until(
        page, lambda d: dom_levels(d).get("renhe") == "none" and refreshed(d), 20, "renhe calm"
    )
    assert dom_alerts(page) == []
    js(page, "window.__yujingSamePage = true")
    late = risk_signal(*LATE, stack.clock())
    truth.add(late)
    stack.produce(late)
    new = alert_id_for(late.signal_id)
    wait_until(page, lambda d: new in dom_alerts(d), 30, f"the new alert {new} listed in renhe")
    assert js(page, "return window.__yujingSamePage === true"), "the page was reloaded"
    # the whole map follows, with the new alert's level wherever it counts
    wait_until(
        page,
        lambda d: (
            dom_levels(d).get("renhe") == "high" and not level_mismatches(truth, dom_levels(d))
        ),
        20,
        lambda: f"the map at the new levels: {level_mismatches(truth, dom_levels(page))}",
    )
    assert set(dom_alerts(page)) == truth.open_alerts("renhe")


def test_screenshot_of_the_scenario(scenario: Scenario, page: WebDriver, tmp_path: Path) -> None:
    """The whole district, every alert of the scenario listed, the gas alert's portrait."""
    select(page, scenario.truth.index.district)
    gas = alert_id_for(scenario.truth.signals[0].signal_id)
    want = scenario.truth.open_alerts(scenario.truth.index.district)
    wait_until(page, lambda d: set(dom_alerts(d)) == want, 20, "the district's alerts")
    js(page, f"document.querySelector('#alerts li[data-alert-id=\"{gas}\"]').click()")
    wait_until(page, lambda d: GAS[1] in d.find_element(By.ID, "portrait").text, 20, "the portrait")
    paths = [tmp_path / "console.png"]
    if os.environ.get("YUJING_CONSOLE_SCREENSHOT"):
        paths.append(Path(os.environ["YUJING_CONSOLE_SCREENSHOT"]))
    size = page.get_window_size()
    page.set_window_size(1400, 1400)  # tall enough for the orders and the trend below the map
    try:
        refreshed(page)
        for p in screenshot(page, *paths):
            assert p.stat().st_size > 10_000, p  # a page, not a blank
            print(f"console screenshot: {p}")
    finally:
        page.set_window_size(size["width"], size["height"])


# --- yujing console over workers --------------------------------------------------


@contextmanager
def console_tool(stack: Stack, *workers: str) -> Iterator[str]:
    """``yujing console`` over ``workers`` (with the stack's web token), started as a
    command; its address."""
    port = find_free_port()
    args = ["console", "--port", str(port)] + [a for w in workers for a in ("--worker", w)]
    child = spawn("console-tool", args, stack.env, stack.tmp)
    url = f"http://127.0.0.1:{port}"
    try:
        # the page is open and needs no worker: up once it answers
        stack.wait_for(lambda: child.proc.poll() is not None or ping(url), 30, f"{url}/console")
        assert child.proc.poll() is None, child.log_tail()
        yield url
    finally:
        child.stop()


def ping(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/console", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def test_the_console_tool_shows_the_workers_map_and_names_one_down(
    scenario: Scenario, page: WebDriver
) -> None:
    stack, truth = scenario.stack, scenario.truth
    token = stack.settings().web_token
    assert token is not None
    fragment = f"?poll={POLL_MS}#token={token.get_secret_value()}"
    with console_tool(stack, stack.web) as url:
        page.get(f"{url}/console{fragment}")
        wait_until(
            page,
            lambda d: (lv := dom_levels(d)) and not level_mismatches(truth, lv),
            30,
            lambda: f"the tool's map at the levels: {level_mismatches(truth, dom_levels(page))}",
        )
        want = truth.open_alerts(truth.index.district)
        wait_until(page, lambda d: set(dom_alerts(d)) == want, 20, "the district's alerts listed")
    dead = f"http://127.0.0.1:{find_free_port()}"
    with console_tool(stack, stack.web, dead) as url:
        page.get(f"{url}/console{fragment}")
        said = wait_until(
            page,
            lambda d: (
                (el := d.find_element(By.ID, "status")).get_attribute("data-error") == "true"
                and el.text
            ),
            30,
            "an error in #status",
        )
        assert "502" in said and dead in said, said
