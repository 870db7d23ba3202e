"""The district day's last line and its progress bar (no broker)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from streams.tools.day.loop import Progress
from streams.tools.day.outcome import KEYS, day_line, lost

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def figures() -> dict:
    return {
        "summary": {
            "sensors": 100, "incidents": 7, "alerts": 9, "orders": 8,
            "auto_disposed_ratio": 0.833333, "auto_disposed_per_day": 5.0, "recall": 1.0,
            "false_alerts_per_1000_sensor_days": 0.0,
            "systemic_alerts": {"trend": 1, "regional": 2},
            "systemic_matched": {"regional": 1, "compound": 1}, "compound_alerts": 4,
            "groups_detected": {"regional": "1/2", "compound": "1/1"},
            "sla_breaches_observed": 3, "duplicate_notifications": 0,
        },
        "alerts": {"without_order": 1},
        "notifications": {"stubs": {"requested_not_accepted": 2}},
    }  # fmt: skip


def test_the_line_has_exactly_the_issues_keys_in_order() -> None:
    parts = {"inputs_not_consumed": 0, "alerts_without_order": 1}
    line = day_line(figures(), 3, parts, 12.345)
    assert tuple(line) == KEYS
    assert line["systemic_alerts"] == {"trend": 1, "regional": 2, "industry": 0, "comprehensive": 0}
    assert line["systemic_matched"] == {
        "trend": 0,
        "regional": 1,
        "industry": 0,
        "comprehensive": 0,
    }
    assert (line["compound_alerts"], line["groups_detected"]["compound"]) == (4, "1/1")
    assert (line["auto_disposed_ratio"], line["lost"], line["wall_s"]) == (0.8333, 1, 12.3)


def test_lost_counts_every_hop_that_kept_something() -> None:
    topics = SimpleNamespace(notifications=[SimpleNamespace(order_id="o1")])
    parts = lost(topics, figures(), sent=50, consumed_inputs=48, period_orders={"o1", "o2"})  # type: ignore[arg-type]
    assert parts == {
        "inputs_not_consumed": 2,
        "alerts_without_order": 1,
        "orders_without_notification": 1,
        "notifications_not_accepted": 2,
    }


def test_the_progress_bar_shows_the_simulated_time_a_line_per_tenth_off_a_terminal() -> None:
    out = io.StringIO()
    bar = Progress(T0, T0 + timedelta(hours=24), out)
    for minutes in range(0, 24 * 60 + 1, 30):
        bar.draw(T0 + timedelta(minutes=minutes), minutes * 10, minutes)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11  # 0 %, 10 %, ..., 100 %
    assert lines[-1].startswith("[" + "#" * 30 + "]") and "24.00 h of 24 h" in lines[-1]
