"""The daily report's figures (tools.report.figures and .facts), without a broker."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportkit import T0, alert, at, breach, notification, order, receipt, status

from schemas import OrderState, SlaClass
from streams.tools.report.facts import Period, durations
from streams.tools.report.figures import OUTCOMES, Topics, compute, grade

S = OrderState
DAY = Period(T0, T0 + timedelta(days=1))


def test_a_stage_is_met_by_its_deadline_missed_after_it_or_when_breached_else_open() -> None:
    a1, a2, a3, a4 = (alert(i, i) for i in range(1, 5))
    o1, o2, o3, o4 = (order(a, a.event_time.minute + 1) for a in (a1, a2, a3, a4))
    topics = Topics(
        alerts=[a1, a2, a3, a4],
        orders=[o1, o2, o3, o4],
        statuses=[
            status(o1, S.SIGNED, 3),
            status(o1, S.ASSIGNED, 4),  # signed stage met at assigned: 2 min after creation
            status(o2, S.SIGNED, 5),
            status(o2, S.ASSIGNED, 12),  # 9 min after creation: late, though no breach is seen
            status(o3, S.SIGNED, 4),
        ],
        breaches=[breach(o3, "signed")],  # o4: nothing yet
    )
    f = compute(topics, DAY)
    signed = f["sla"]["by_class"]["emergency"]["signed"]
    assert signed == {"stages": 4, "met": 1, "missed": 2, "open": 1, "compliance": 1 / 3}
    assert f["sla"]["breaches"]["observed"] == 1
    assert f["summary"]["sla_breaches_observed"] == 1


def test_mtta_from_created_to_signed_and_mttr_to_resolved_by_person_or_machine() -> None:
    a1, a2, a3 = alert(1, 0), alert(2, 0), alert(3, 0)
    o1, o2, o3 = order(a1, 0), order(a2, 10), order(a3, 20, auto=True)
    statuses = [
        status(o1, S.SIGNED, 2),
        status(o1, S.ASSIGNED, 3),
        status(o1, S.RESOLVED, 60),
        status(o1, S.CLOSED, 70),
        status(o2, S.SIGNED, 14),
        status(o3, S.AUTO_DISPOSING, 20, "created"),
        status(o3, S.AUTO_RESOLVED, 22, "recheck"),
    ]
    f = compute(Topics([a1, a2, a3], [o1, o2, o3], statuses), DAY)
    assert f["times"]["mtta"] == durations([120.0, 240.0])
    assert f["times"]["mttr"] == durations([3600.0, 120.0])
    assert f["times"]["mttr_person"]["mean_s"] == 3600.0
    assert f["times"]["mttr_machine"]["mean_s"] == 120.0
    assert f["orders"]["by_state"] == {"signed": 1, "closed": 1, "auto_resolved": 1}


def test_auto_disposal_ratio_is_auto_resolved_over_all_orders_of_the_period() -> None:
    alerts = [alert(i, i) for i in range(5)]
    orders = [order(a, a.event_time.minute, auto=i < 4) for i, a in enumerate(alerts)]
    statuses = [
        status(orders[0], S.AUTO_RESOLVED, 3, "recheck"),
        status(orders[1], S.AUTO_RESOLVED, 4, "recheck"),
        status(orders[2], S.OPEN, 5, "recheck"),  # the re-check failed: a person has it
        status(orders[3], S.OPEN, 4, "help_requested"),
    ]
    f = compute(Topics(alerts, orders, statuses), DAY)
    auto = f["auto_disposal"]
    assert (auto["auto_resolved"], auto["orders"], auto["auto_disposable"]) == (2, 5, 4)
    assert auto["ratio"] == 0.4 and auto["ratio_of_auto_disposable"] == 0.5
    assert auto["per_day"] == 2.0
    assert (auto["escalated_at_recheck"], auto["help_requested"], auto["in_progress"]) == (1, 1, 0)
    esc = f["escalations"]
    assert (esc["orders_escalated"], esc["at_recheck"], esc["help_requested"]) == (2, 1, 1)
    assert f["summary"]["auto_disposed_ratio"] == 0.4


def test_alerts_count_distinct_ids_with_the_latest_versions_level_in_the_period() -> None:
    v1 = alert(1, 10, level="medium")
    v2 = alert(1, 30, level="critical", version=2)
    late = alert(2, 24 * 60 + 5)  # the next day
    covered = alert(3, 40, inhibited_by="alert-9")
    f = compute(Topics(alerts=[v2, v1, v1, late, covered]), DAY)
    a = f["alerts"]
    assert a["total"] == 2 and f["summary"]["alerts"] == 2
    assert a["by_level"] == {"total": 2, "low": 0, "medium": 0, "high": 1, "critical": 1}
    assert a["inhibited"] == 1 and a["without_order"] == 1  # alert-1 was paged, no order seen
    hours = a["per_hour"]
    assert len(hours) == 24 and [h["alerts"] for h in hours[:2]] == [2, 0]


def test_the_department_is_the_orders_own_field_else_its_alerts_module() -> None:
    a1, a2 = alert(1, 0, module="gas_safety"), alert(2, 0, module="fire_safety")
    o1 = order(a1, 1, department="gas-bureau")
    o2 = order(a2, 1)  # an order from before the district model: no department
    f = compute(Topics([a1, a2], [o1, o2]), DAY)
    assert f["sla"]["department_source"] == "order"
    assert set(f["sla"]["by_department"]) == {"gas-bureau", "fire_safety"}
    f2 = compute(Topics([a1, a2], [order(a1, 1), o2]), DAY)
    assert f2["sla"]["department_source"] == "alert module"
    assert set(f2["sla"]["by_department"]) == {"gas_safety", "fire_safety"}


def test_duplicate_notifications_are_keys_the_stubs_accepted_more_than_once() -> None:
    a = alert(1, 0)
    o = order(a, 1)
    n1, n2 = notification(o), notification(o, "escalation")
    topics = Topics([a], [o], notifications=[n1, n2, n1], receipts=[receipt(n1)])
    stubs = [{"idempotency_key": n1.idempotency_key}, {"idempotency_key": n1.idempotency_key}]
    f = compute(topics, DAY, stub_messages=stubs)
    n = f["notifications"]
    assert (n["requested"], n["delivered"], n["failed"], n["no_receipt"]) == (2, 1, 0, 1)
    assert n["stubs"] == {"accepted": 2, "duplicate_notifications": 1, "requested_not_accepted": 1}
    assert f["summary"]["duplicate_notifications"] == 1
    assert compute(topics, DAY)["summary"]["duplicate_notifications"] is None


def test_grades_and_the_summary_names_issue_10s_keys() -> None:
    assert [grade(x) for x in (1.0, 0.95, 0.94, 0.8, 0.79, None)] == [
        "good",
        "good",
        "needs attention",
        "needs attention",
        "poor",
        "no deadline decided",
    ]
    f = compute(Topics(), DAY)
    assert set(f["summary"]) == {
        "sensors",
        "incidents",
        "alerts",
        "orders",
        "auto_disposed_ratio",
        "auto_disposed_per_day",
        "recall",
        "false_alerts_per_1000_sensor_days",
        "systemic_alerts",
        "systemic_matched",
        "compound_alerts",
        "groups_detected",
        "sla_breaches_observed",
        "duplicate_notifications",
    }
    assert f["summary"]["auto_disposed_ratio"] is None  # no orders: no made-up ratio
    for key in ("auto_disposed_ratio", "sla_breaches_observed", "mtta", "mttr", "recall"):
        assert key in f["definitions"]


def test_a_period_needs_offsets_and_a_positive_length() -> None:
    with pytest.raises(ValueError, match="offset"):
        Period(T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="ends before"):
        Period(T0, T0)


# --------------------------------------------------------------------------- properties

PATHS = ("none", "signed", "assigned", "arrived", "closed", "auto_resolved", "recheck", "help")


@st.composite
def day(draw: st.DrawFn) -> Topics:
    """A random day: orders of either class, each down a random lifecycle path."""
    n = draw(st.integers(0, 25))
    rng = random.Random(draw(st.integers(0, 2**32)))
    alerts, orders, statuses, breaches = [], [], [], []
    for i in range(n):
        a = alert(i, rng.uniform(-120, 1500), module=rng.choice(["gas", "fire", "flood"]))
        cls = rng.choice(list(SlaClass))
        raised = (a.event_time - T0).total_seconds() / 60
        o = order(a, raised + rng.uniform(0, 5), sla_class=cls, auto=rng.random() < 0.5)
        alerts.append(a)
        orders.append(o)
        t = (o.event_time - T0).total_seconds() / 60
        path = rng.choice(PATHS)
        if path in ("auto_resolved", "recheck", "help"):
            state = S.AUTO_RESOLVED if path == "auto_resolved" else S.OPEN
            cause = {"auto_resolved": "recheck", "recheck": "recheck", "help": "help_requested"}
            statuses.append(status(o, state, t + rng.uniform(0, 90), cause[path]))
        else:
            steps = [S.SIGNED, S.ASSIGNED, S.ARRIVED, S.RESOLVED, S.CLOSED]
            k = {"none": 0, "signed": 1, "assigned": 2, "arrived": 3, "closed": 5}[path]
            for s in steps[:k]:
                t += rng.expovariate(1 / 30)
                statuses.append(status(o, s, t))
        for stage in o.deadlines:
            if rng.random() < 0.3:
                breaches.append(breach(o, stage))
    return Topics(alerts, orders, statuses, breaches)


def _shuffled(t: Topics, seed: int) -> Topics:
    rng = random.Random(seed)

    def mix(xs: Any) -> list[Any]:
        out = list(xs) * 2  # redelivered: every event twice
        rng.shuffle(out)
        return out

    return Topics(*(mix(getattr(t, f)) for f in ("alerts", "orders", "statuses", "breaches")))


@settings(max_examples=60, deadline=None)
@given(day(), st.integers(0, 1000))
def test_counts_add_up_ratios_stay_in_0_1_and_order_or_redelivery_change_nothing(
    topics: Topics, seed: int
) -> None:
    f = compute(topics, DAY)
    sla = f["sla"]
    for row in [sla["all"], *(s for c in sla["by_class"].values() for s in c.values())]:
        assert row["stages"] == sum(row[k] for k in OUTCOMES)
        assert row["compliance"] is None or 0.0 <= row["compliance"] <= 1.0
    for groups in (sla["by_department"], sla["by_role"], sla["by_receiver"]):
        assert sum(g["orders"] for g in groups.values()) == f["orders"]["total"]
        for k in (*OUTCOMES, "stages"):
            assert sum(g[k] for g in groups.values()) == sla["all"][k]
    auto = f["auto_disposal"]
    for key in ("ratio", "ratio_of_auto_disposable"):
        assert auto[key] is None or 0.0 <= auto[key] <= 1.0
    assert sum(f["orders"]["by_state"].values()) == f["orders"]["total"] == auto["orders"]
    a = f["alerts"]
    assert a["by_level"]["total"] == a["total"] == sum(h["alerts"] for h in a["per_hour"])
    assert sum(g["total"] for g in a["by_module"].values()) == a["total"]
    assert sla["breaches"]["observed"] == len(
        {
            (b.order_id, b.stage)
            for b in topics.breaches
            if DAY.contains(_created(topics, b.order_id))
        }
    )
    again = compute(_shuffled(topics, seed), DAY)
    assert again == f


def _created(topics: Topics, order_id: str) -> Any:
    return next(o.event_time for o in topics.orders if o.order_id == order_id)


@settings(max_examples=40, deadline=None)
@given(day(), st.floats(0, 1440), st.floats(1, 1440))
def test_a_period_splits_a_day_into_parts_that_add_up(
    topics: Topics, cut: float, length: float
) -> None:
    whole = compute(topics, Period(T0 - timedelta(hours=3), T0 + timedelta(days=2)))
    first = compute(topics, Period(T0 - timedelta(hours=3), at(cut)))
    rest = compute(topics, Period(at(cut), T0 + timedelta(days=2)))
    for key in ("total", "auto_disposable"):
        assert first["orders"][key] + rest["orders"][key] == whole["orders"][key]
    assert first["alerts"]["total"] + rest["alerts"]["total"] == whole["alerts"]["total"]
    for k in (*OUTCOMES, "stages"):
        assert first["sla"]["all"][k] + rest["sla"]["all"][k] == whole["sla"]["all"][k]
    part = compute(topics, Period(at(cut), at(cut + length)))
    assert part["auto_disposal"]["per_day"] == pytest.approx(
        part["auto_disposal"]["auto_resolved"] * 1440 / length
    )
