"""``yujing report``'s outputs without a broker: terminal tables, the HTML page, options."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest
from reportkit import T0, alert, breach, order, status, systemic

from schemas import OrderState, ScopeKind, SlaClass
from streams.core.shared.config import ConfigError
from streams.tools.report.command import parse_period
from streams.tools.report.facts import Period
from streams.tools.report.figures import Topics, compute
from streams.tools.report.groundtruth import Entry, Truth
from streams.tools.report.html import render_html
from streams.tools.report.text import render_text

DAY = Period(T0, T0 + timedelta(days=1))


def figures() -> dict[str, object]:
    a1 = alert(1, 30, module="gas_safety", level="critical")
    a2 = alert(2, 95, module="fire_safety", level="medium", place="site.yuhang.c01.rental-flat-02")
    a3 = systemic(
        3,
        "regional",
        ScopeKind.TOWN,
        "linping",
        (60, 120),
        100,
        [("site.linping.c01.restaurant-01", "gas_safety", "restaurant_gas_leak")] * 3,
    )
    o1 = order(a1, 31, receiver="gas_company_hotline", role="enterprise")
    o2 = order(a2, 96, sla_class=SlaClass.NON_EMERGENCY, auto=True)
    o3 = order(a3, 101)
    statuses = [
        status(o1, OrderState.SIGNED, 33),
        status(o1, OrderState.ASSIGNED, 34),
        status(o2, OrderState.AUTO_RESOLVED, 100, "recheck"),
    ]
    truth = Truth(
        (
            Entry(
                "incident-1",
                "incident",
                T0,
                T0 + timedelta(hours=1),
                "restaurant_gas_leak",
                risk_point="restaurant_gas_leak",
                module="gas_safety",
                place_id="site.linping.c01.restaurant-01",
                town="linping",
            ),
        ),
        sensors=500,
    )
    topics = Topics([a1, a2, a3], [o1, o2, o3], statuses, [breach(o3, "signed")])
    return compute(topics, DAY, towns={"site.linping.c01.restaurant-01": "linping"}, truth=truth)


def test_the_terminal_report_is_tables_a_person_can_read() -> None:
    text = render_text(figures())
    for heading in (
        "SUMMARY",
        "ALERTS BY MODULE",
        "ALERTS BY TOWN",
        "ALERTS PER HOUR",
        "SLA COMPLIANCE PER STAGE",
        "DEPARTMENTS: HANDLING",
        "RECEIVER ROLES",
        "RECEIVERS",
        "AUTO-DISPOSAL",
        "RESPONSE TIMES",
        "ESCALATIONS",
        "NOTIFICATIONS",
        "GROUND TRUTH",
        "RECALL BY MODULE",
    ):
        assert f"\n{heading}" in text, heading
    assert "alerts 3   orders 3   auto-disposed 1 (33.3 %)" in text
    assert re.search(r"gas_safety\s+2\s+0\s+0\s+1\s+1\n", text)  # module, total, by level
    assert re.search(r"emergency / signed\s+2\s+1\s+1\s+0\s+50.0 %", text)
    assert "recall 100.0 % of 1 incidents" in text
    assert "linping" in text and "(district-wide)" not in text
    assert max(len(line) for line in text.splitlines()) <= 120


def test_the_html_page_is_self_contained_and_has_both_charts() -> None:
    page = render_html(figures())
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and not re.search(r"(src|href)=", page)
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"] * 2
    charts = {
        m.group(1): m.group(0) for m in re.finditer(r'<svg id="([a-z-]+)".*?</svg>', page, re.S)
    }
    assert set(charts) == {"alerts-per-hour", "sla-per-department"}
    hours = ET.fromstring(charts["alerts-per-hour"])
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in hours.iter(f"{ns}rect") if r.get("class") == "bar"]
    assert len(bars) == 24 and sum(float(b.get("height", 0)) > 0 for b in bars) == 2
    depts = ET.fromstring(charts["sla-per-department"])
    labels = [t.text for t in depts.iter(f"{ns}text")]
    assert {"gas_safety", "fire_safety"} <= set(labels)
    assert "Departments: handling" in page and "Against the ground truth" in page


def _args(**kw: object) -> argparse.Namespace:
    base = {
        "day": None,
        "since": None,
        "until": None,
        "utc_offset": "+08:00",
        "utc_offset_given": False,
    }
    return argparse.Namespace(**{**base, **kw})


def test_a_day_is_midnight_to_midnight_on_the_districts_clock() -> None:
    period, tz = parse_period(_args(day="2026-03-02"))
    assert period.since == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert period.days == 1.0 and tz == timezone(timedelta(hours=8))
    period, tz = parse_period(_args(since="2026-03-02T06:00:00+00:00", until="1772452800"))
    assert period.since == datetime(2026, 3, 2, 6, tzinfo=UTC) and tz == UTC
    with pytest.raises(ConfigError, match="not both"):
        parse_period(_args(day="2026-03-02", since="2026-03-02T06:00:00+00:00"))
    with pytest.raises(ConfigError, match="ends before"):
        parse_period(_args(since="2026-03-02T06:00:00+00:00", until="2026-03-02T05:00:00+00:00"))
    with pytest.raises(ConfigError, match="utc-offset"):
        parse_period(_args(day="2026-03-02", utc_offset="8h"))


def test_an_unreachable_broker_is_one_line_within_seconds() -> None:
    env = {**os.environ, "YUJING_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "report", "--day", "2026-03-02"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert time.monotonic() - started < 10
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr == "yujing report: broker not reachable at 127.0.0.1:1\n"
