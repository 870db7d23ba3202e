"""Compound and systemic risk on the real broker (two partitions), with ground truth.

(The trend rule has a scenario of its own at the end: a module's rate rising
against eight hours of its own history, replayed by event time.)

One scenario, fed with ``yujing replay`` in four phases, through real ``yujing
worker`` processes, the default catalogue and the small test district
(``tests/lib/small_district.yaml``):

1. a town-wide spread in Wuchang (signals in communities 2, 3, 4) and gas
   alarms in two Cangqian restaurants → the regional alert;
2. mixed sensor readings and department records at a restaurant (gas, smoke,
   a gas alarm after a failed fire inspection) and at a factory (production
   under an expired certificate + a hot chemical store), and at an underpass an
   axle overload at 08:20 sent after the water reading at 08:40 (out of order,
   within the lateness) → three compound alerts, all inhibited by the regional
   one; a third catering site → the industry alert; the district index → critical;
3. smoke at the underpass at 09:50 and 09:52 (two sensors), which moves that
   place's watermark (the second newest signal time: one alone would not) to 09:50;
4. a wind alarm there at 08:15, more than 30 minutes behind → dead letter ``late``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from districts import SMALL
from support import Stack, wait_for

from schemas import Alert, DeadLetter, DeadLetterReason, DispatchOrder, RiskSignal
from schemas.codec import decode
from schemas.registry import ALERTS, DEAD_LETTERS, DISPATCH_ORDERS, SCOPED_SIGNALS
from streams.core.shared.ids import stable_id
from streams.dev.runner import get_json
from streams.runtime.kafka_io import read_topic

pytestmark = pytest.mark.integration

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
W0 = int(T0.timestamp())
R1, R2, R3 = (
    "site.restaurant.wuchang-01",
    "site.restaurant.cangqian-01",
    "site.restaurant.cangqian-02",
)
F1 = "site.factory.wuchang-01"
C2, C3, C4 = "cell.wuchang.wuchang-2.01", "cell.wuchang.wuchang-3.01", "cell.wuchang.wuchang-4.01"


def reading(sensor: str, kind: str, place: str, value: float, minute: int) -> dict[str, Any]:
    return {
        "reading_id": f"{sensor}-{minute}",
        "sensor_id": sensor,
        "sensor_kind": kind,
        "place_id": place,
        "value": value,
        "event_time": (T0 + timedelta(minutes=minute)).isoformat(),
    }


def record(event_id: str, dept: str, etype: str, place: str, minute: int) -> dict[str, Any]:
    return {
        "department_event": {
            "event_id": event_id,
            "department": dept,
            "event_type": etype,
            "place_id": place,
            "event_time": (T0 + timedelta(minutes=minute)).isoformat(),
        }
    }


PHASES = [
    [  # 1: town-wide spread, two catering sites
        reading("smoke-c2", "smoke_obscuration", C2, 6.0, 30),
        reading("water-c3", "water_depth_cm", C3, 35.0, 40),
        reading("fall-c4", "fall_detector", C4, 1.0, 45),
        reading("gas-r2", "gas_lel", R2, 30.0, 20),
        reading("gas-r3", "gas_lel", R3, 28.0, 25),
    ],
    [  # 2: mixed sources at R1 and F1; out of order at C3
        record("insp-r1", "fire", "fire_inspection_failed", R1, 2),
        reading("gas-r1", "gas_lel", R1, 30.0, 5),
        reading("smoke-r1", "smoke_obscuration", R1, 6.0, 10),
        record("alarm-r1", "gas", "gas_alarm_report", R1, 12),
        record("cert-f1", "safety", "safety_certificate_expired", F1, 0),
        record("prod-f1", "economy", "production_activity_report", F1, 15),
        reading("temp-f1", "storage_temp_c", F1, 40.0, 18),
        reading("axle-c3", "axle_load_t", C3, 52.0, 20),
    ],
    [  # 3: two signals agree, so C3's watermark → 09:50
        reading("smoke-c3", "smoke_obscuration", C3, 6.0, 110),
        reading("smoke-c3b", "smoke_obscuration", C3, 6.0, 112),
    ],
    [reading("wind-c3", "wind_speed_ms", C3, 20.0, 15)],  # 4: 08:15, beyond the lateness
]


def alert_id(rule: str, kind: str, scope: str, sub: str = "") -> str:
    return stable_id("alert", rule, kind, scope, sub, W0)


TOWN = alert_id("town_wide_risk", "town", "wuchang")
#: (rule, scope) → (id, level, members, risk points, source events, inhibited_by)
Want = tuple[str, str, dict[str, int], list[str], set[str], str | None]
EXPECTED: dict[tuple[str, str], Want] = {
    ("town_wide_risk", "wuchang"): (
        TOWN,
        "high",
        {"wuchang.wuchang-1": 5, "wuchang.wuchang-2": 1, "wuchang.wuchang-3": 2,
         "wuchang.wuchang-4": 1},
        ["chemical_storage_hot", "elderly_fall", "gas_alarm_after_failed_inspection",
         "operating_with_expired_certificate", "overloaded_truck", "restaurant_gas_leak",
         "smoke_in_rental_flat", "underpass_waterlogging"],
        {"smoke-c2-30", "water-c3-40", "fall-c4-45", "insp-r1", "gas-r1-5", "smoke-r1-10",
         "alarm-r1", "cert-f1", "prod-f1", "temp-f1-18", "axle-c3-20"},
        None,
    ),
    ("gas_and_fire_at_place", R1): (
        alert_id("gas_and_fire_at_place", "place", R1, R1),
        "critical",
        {"fire_safety": 1, "gas_safety": 2},
        ["gas_alarm_after_failed_inspection", "restaurant_gas_leak", "smoke_in_rental_flat"],
        {"insp-r1", "alarm-r1", "gas-r1-5", "smoke-r1-10"},
        TOWN,
    ),
    ("industrial_hazard_stack", F1): (
        alert_id("industrial_hazard_stack", "place", F1, F1),
        "high",
        {"hazardous_chemicals": 1, "production_safety": 1},
        ["chemical_storage_hot", "operating_with_expired_certificate"],
        {"cert-f1", "prod-f1", "temp-f1-18"},
        TOWN,
    ),
    ("flood_and_traffic", C3): (
        alert_id("flood_and_traffic", "place", C3, C3),
        "high",
        {"flood_control": 1, "road_traffic": 1},
        ["overloaded_truck", "underpass_waterlogging"],
        {"water-c3-40", "axle-c3-20"},
        TOWN,
    ),
    ("industry_wide_risk", "catering"): (
        alert_id("industry_wide_risk", "industry", "catering"),
        "high",
        {R1: 3, R2: 1, R3: 1},
        ["gas_alarm_after_failed_inspection", "restaurant_gas_leak", "smoke_in_rental_flat"],
        {"insp-r1", "alarm-r1", "gas-r1-5", "smoke-r1-10", "gas-r2-20", "gas-r3-25"},
        None,
    ),
    ("district_risk_index", "yuhang"): (
        alert_id("district_risk_index", "district", "yuhang"),
        "critical",  # 16 (R1) + 6 (F1) + 4 (C2) + 6 (C3) + 8 (C4) + 8 + 8 (R2, R3) = 56 >= 48
        {
            "fire_safety": 2, "flood_control": 1, "gas_safety": 4, "hazardous_chemicals": 1,
            "production_safety": 1, "road_traffic": 1, "vulnerable_residents": 1,
        },
        ["chemical_storage_hot", "elderly_fall", "gas_alarm_after_failed_inspection",
         "operating_with_expired_certificate", "overloaded_truck", "restaurant_gas_leak",
         "smoke_in_rental_flat", "underpass_waterlogging"],
        {"smoke-c2-30", "water-c3-40", "fall-c4-45", "insp-r1", "gas-r1-5", "smoke-r1-10",
         "alarm-r1", "cert-f1", "prod-f1", "temp-f1-18", "axle-c3-20", "gas-r2-20", "gas-r3-25"},
        None,
    ),
}  # fmt: skip


def replay(stack: Stack, phase: int) -> None:
    path = stack.tmp / f"phase-{phase}.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in PHASES[phase]))
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "replay", str(path), "--bootstrap", stack.bootstrap],
        env={**stack.env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def all_alerts(stack: Stack) -> list[Alert]:
    return stack.read(ALERTS, Alert, timeout_s=2.0)


def latest(alerts: list[Alert]) -> dict[tuple[str, str], Alert]:
    out: dict[tuple[str, str], Alert] = {}
    for a in alerts:
        if a.kind == "single":
            continue
        k = (a.rule_id, a.scope)
        if k not in out or out[k].version < a.version:
            out[k] = a
    return out


def matches(a: Alert, want: tuple[Any, ...]) -> bool:
    aid, level, members, rps, sources, inhibited = want
    assert a.portrait is not None
    got_sources = {e for c in a.portrait.contributions for e in c.source_event_ids}
    return (
        a.alert_id == aid
        and a.level == level
        and a.portrait.members == members
        and a.risk_points == rps
        and got_sources == sources
        and a.inhibited_by == inhibited
        and a.window_start == T0
    )


def wait_for_expected(stack: Stack, keys: set[tuple[str, str]], timeout: float = 90) -> None:
    def done() -> bool:
        got = latest(all_alerts(stack))
        return all(k in got and matches(got[k], EXPECTED[k]) for k in keys)

    wait_for(done, timeout=timeout, what=f"alerts {sorted(keys)}")


def run_scenario(stack: Stack, between: Callable[[], None] = lambda: None) -> list[Alert]:
    replay(stack, 0)
    wait_for(
        lambda: ("town_wide_risk", "wuchang") in latest(all_alerts(stack)),
        what="the regional alert of phase 1",
    )
    replay(stack, 1)
    between()
    wait_for_expected(stack, set(EXPECTED))
    replay(stack, 2)

    def smoke_located() -> bool:
        recs = read_topic(stack.bootstrap, stack.prefix + SCOPED_SIGNALS.name, timeout_s=2)
        return all(any(e in r.value for r in recs) for e in (b"smoke-c3-110", b"smoke-c3b-112"))

    wait_for(smoke_located, what="the 09:50 and 09:52 smoke signals to be located")
    replay(stack, 3)

    def late_letter() -> list[DeadLetter]:
        return [d for d in stack.read(DEAD_LETTERS, DeadLetter) if d.reason == "late"]

    letters = wait_for(late_letter, what="the late dead letter")
    assert len(letters) == 1 and letters[0].stage == "locate_signals"
    import base64

    late = decode(RiskSignal, base64.b64decode(letters[0].payload_b64))
    assert late.risk_point == "tower_crane_wind" and late.source_event_ids == ["wind-c3-15"]
    assert letters[0].reason == DeadLetterReason.LATE
    # the checks that follow say "exactly these" and "one per alert": nothing may be in flight
    stack.settle()
    return all_alerts(stack)


def check_final(stack: Stack, alerts: list[Alert]) -> None:
    got = latest(alerts)
    assert set(got) == set(EXPECTED), sorted(got)  # exactly these: no other compound/systemic
    for k, want in EXPECTED.items():
        assert matches(got[k], want), (k, got[k])
    # one alert per (rule, scope, window); a version is never published with two contents
    by_version: dict[tuple[str, int], str] = {}
    for a in alerts:
        body = a.model_dump_json()
        assert by_version.setdefault((a.alert_id, a.version), body) == body, a.alert_id
    for aid in {a.alert_id for a in alerts}:
        versions = sorted({a.version for a in alerts if a.alert_id == aid})
        assert versions == list(range(1, len(versions) + 1)), (aid, versions)
    # portraits and summaries say what, where, how bad, why
    gf = got[("gas_and_fire_at_place", R1)]
    assert gf.portrait is not None
    assert [c.risk_point for c in gf.portrait.contributions] == [
        "restaurant_gas_leak",
        "smoke_in_rental_flat",
        "gas_alarm_after_failed_inspection",
    ]
    assert gf.portrait.contributions[2].source_event_ids == ["insp-r1", "alarm-r1"]
    assert gf.summary.startswith("[CRITICAL] Gas and fire risks at the same place")
    assert "wuchang" in gf.summary and "2 modules co-occur" in gf.summary
    assert {gf.alert_id, got[("flood_and_traffic", C3)].alert_id} <= set(
        got[("town_wide_risk", "wuchang")].covers
    )
    # orders: exactly one per paged alert; the covered compound alerts are not paged
    orders = stack.read(DISPATCH_ORDERS, DispatchOrder)
    ordered = [o.alert_id for o in orders]
    assert len(ordered) == len(set(ordered))
    compound_ids = {EXPECTED[k][0] for k in EXPECTED if EXPECTED[k][5] is not None}
    assert not compound_ids & set(ordered)
    systemic_ids = {EXPECTED[k][0] for k in EXPECTED if EXPECTED[k][5] is None}
    wait_for(
        lambda: systemic_ids <= {o.alert_id for o in stack.read(DISPATCH_ORDERS, DispatchOrder)},
        what="orders for the systemic alerts",
    )


def check_map(stack: Stack) -> None:
    status, body = get_json(f"{stack.web}/map")
    assert status == 200 and body["partitions"] == [0, 1]
    levels = {k: v["level"] for k, v in body["scopes"].items()}
    assert levels[C4] == "critical" and levels[C2] == "high"
    assert levels[C3] == "high"  # water, axle, smoke: high + medium + high; not the late wind
    assert levels["wuchang.wuchang-3"] == "high" and levels["wuchang"] == "critical"
    assert levels["cangqian"] == "critical" and levels["liangzhu"] == "none"
    assert levels["yuhang"] == "critical"
    assert levels["industry:catering"] == "critical" and levels["industry:chemicals"] == "none"
    assert levels["industry:manufacturing"] == "high"
    status, body = get_json(f"{stack.web}/map/wuchang/alerts")
    assert status == 200 and body["level"] == "critical"
    rules = {a["rule_id"] for a in body["alerts"]}
    assert rules >= {"town_wide_risk", "gas_and_fire_at_place", "flood_and_traffic", "single"}
    assert all(a["rule_id"] != "industry_wide_risk" for a in body["alerts"])
    status, body = get_json(f"{stack.web}/map/{C3}/alerts")
    singles = sorted(a["risk_point"] for a in body["alerts"] if a["kind"] == "single")
    smoke = ["smoke_in_rental_flat"] * 2  # two sensors, 09:50 and 09:52
    assert singles == ["overloaded_truck", *smoke, "underpass_waterlogging"]
    gf_id = EXPECTED[("gas_and_fire_at_place", R1)][0]
    status, body = get_json(f"{stack.web}/alerts/{gf_id}")
    assert status == 200 and body["portrait"]["members"] == {"fire_safety": 1, "gas_safety": 2}
    assert body["inhibited_by"] == TOWN
    assert get_json(f"{stack.web}/alerts/alert-nope")[0] == 404
    assert get_json(f"{stack.web}/map/nowhere/alerts")[0] == 404


def test_scenario_gives_exactly_the_expected_alerts_portraits_and_map(
    make_stack_env: Callable[..., Stack],
) -> None:
    stack = make_stack_env(YUJING_DISTRICT=str(SMALL))
    alerts = run_scenario(stack)
    check_final(stack, alerts)
    check_map(stack)


def test_a_worker_killed_mid_scenario_loses_and_duplicates_no_alert(
    make_stack_env: Callable[..., Stack], tmp_path: Path
) -> None:
    stack = make_stack_env(YUJING_DISTRICT=str(SMALL))

    def crash() -> None:
        # kill -9 as soon as phase 2 starts producing compound alerts, then come back
        wait_for(
            lambda: any(a.kind == "compound" for a in all_alerts(stack)),
            what="the first compound alert",
        )
        assert stack.worker is not None
        stack.worker.kill()
        stack.worker = None
        stack.start_worker()

    alerts = run_scenario(stack, between=crash)
    check_final(stack, alerts)  # same ids and contents as the uninterrupted run: deterministic
    check_map(stack)


def test_a_module_rate_rising_against_its_history_gives_one_trend_alert(
    make_stack_env: Callable[..., Stack],
) -> None:
    # River gauges at one Liangzhu cell: one alarm an hour for eight hours (the
    # history), then six in the ninth hour. Each alarm is a gauge of its own, so
    # each fires once. P(X >= 6 | mean 1) = 0.0006 <= the rule's 0.001.
    stack = make_stack_env(YUJING_DISTRICT=str(SMALL))
    place = "cell.liangzhu.liangzhu-1.01"
    history = [reading(f"river-h{h}", "river_level_m", place, 4.8, 60 * h + 10) for h in range(8)]
    burst = [reading(f"river-b{i}", "river_level_m", place, 4.8, 480 + 5 * i) for i in range(6)]
    # Replayed by event time at 1,200x (an hour in 3 s), as they would arrive live.
    # (Sent all at once, the gauges' partitions interleave: 3 history signals came
    # more than the lateness behind the cell's newest, were dead-lettered as late,
    # and the baseline was 0.71.)
    path = stack.tmp / "trend.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in [*history, *burst]))
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "replay", str(path), "--speed", "1200"],
        env={**stack.env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr

    def trend() -> list[Alert]:
        return [a for a in all_alerts(stack) if a.rule_id == "module_rate_rising"]

    got = wait_for(trend, timeout=90, what="the trend alert")
    stack.settle()  # lag 0 with nothing in flight: a second one would be on the topic now
    final = latest(trend())
    assert len(final) == 1, final  # one alert per (rule, scope, window), however often updated
    alert = next(iter(final.values()))
    assert alert.kind == "systemic" and alert.module == "flood_control"
    assert alert.window_start == T0 + timedelta(hours=8)
    assert alert.portrait is not None and alert.portrait.baseline == pytest.approx(1.0)
    sources = {e for c in alert.portrait.contributions for e in c.source_event_ids}
    assert sources == {f"river-b{i}-{480 + 5 * i}" for i in range(6)}
    assert alert.portrait.rule_kind == "trend" and "tail probability" in alert.summary
    assert {a.alert_id for a in got} == {alert.alert_id}
