"""The end of a district day: the workers drained, the daily report, the day's line.

(... → notification → **report**.) Thin: the figures are
:func:`streams.tools.report.figures.compute`'s, from the topics, the stubs' lists and
the ground truth the day wrote; :mod:`streams.tools.day.outcome` adds the expected
breaches, what was lost and the wall time.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from schemas.registry import DEPARTMENT_EVENTS, READINGS
from streams.tools.day import outcome
from streams.tools.report import groundtruth
from streams.tools.report.facts import Period
from streams.tools.report.figures import compute

INPUTS = (READINGS.name, DEPARTMENT_EVENTS.name)


def finish(day: Any, bootstrap: str, world: Any, ledger: Any, stats: dict[str, int]) -> Any:
    from streams.tools.report.command import read_topics, regions_of, stub_messages
    from streams.tools.report.text import render_text

    s = day.settings
    group = day.prefix + s.app_id
    t = time.monotonic()
    security = s.kafka_security
    ok, lag = outcome.drained(bootstrap, group, day.prefix, timeout_s=240, security=security)
    day.say(
        f"workers drained in {time.monotonic() - t:.0f} s"
        if ok
        else f"workers NOT drained after {time.monotonic() - t:.0f} s: lag {lag}"
    )
    truth_path = day.dir / "truth.jsonl"
    lines = world.truth()
    truth_path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    truth = groundtruth.parse_truth(json.dumps(x) for x in lines)
    towns, ancestors = regions_of(s.district, truth)
    topics, undecodable = read_topics(bootstrap, day.prefix, security=security)
    stubs = stub_messages([("the SMS stub", s.sms_url), ("the voice stub", s.voice_url)])
    # what the stubs accepted, kept: they stop with the day, the topics stay
    (day.dir / "stubs.json").write_text(json.dumps(stubs, default=str), "utf-8")
    figures = compute(
        topics,
        Period(day.start, day.end),
        towns=towns,
        ancestors=ancestors,
        tz=day.start.tzinfo,
        stub_messages=stubs,
        truth=truth,
    )
    horizon = day.until - timedelta(seconds=day.grace_s)
    expected = ledger.expected(horizon)
    consumed = outcome.consumed(bootstrap, group, day.prefix, INPUTS, security=security)
    consumed -= day.inputs_before
    period_orders = {o.order_id for o in topics.orders if day.start <= o.event_time < day.end}
    lost = outcome.lost(topics, figures, stats["inputs"], consumed, period_orders)
    observed = {(b.order_id, b.stage) for b in topics.breaches if b.order_id in period_orders}
    figures["district_day"] = {
        "sla_breaches_expected": expected,
        "unexpected_breaches": sorted(observed - set(expected)),
        "missing_breaches": sorted(set(expected) - observed),
        "lost": lost,
        "people": stats.get("people", {}),
        "undecodable": undecodable,
        "truth": str(truth_path),
        "judged_until": horizon.isoformat(),
    }
    if day.args.html:
        from streams.tools.report.html import render_html

        day.args.html.write_text(render_html(figures), encoding="utf-8")
    (day.dir / "report.json").write_text(json.dumps(figures, indent=2, default=str), "utf-8")
    print(render_text(figures))
    print(
        f"\nDistrict day: breaches expected {len(expected)}, observed {len(observed)} "
        f"(unexpected {len(observed - set(expected))}, missing {len(set(expected) - observed)}); "
        f"lost {sum(lost.values())} {lost}; report JSON in {day.dir / 'report.json'}"
    )
    return outcome.day_line(figures, len(expected), lost, time.monotonic() - day.t0)


__all__ = ["finish"]
