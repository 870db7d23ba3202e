"""Data collision: the latest records of two departments about a place, compared."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.signals.detectors import Collision, Record
from streams.core.signals.trigger import Trigger

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = 86400.0
RENTAL = {
    "left": {"event_type": "rental_registration", "field": "declared_tenants"},
    "right": {"event_type": "utility_occupancy", "field": "estimated_occupants"},
    "op": "ratio_gt",
    "value": 2.5,
    "window_s": 30 * DAY,
}
FIRE_GAS = {
    "left": {"event_type": "fire_inspection_failed"},
    "right": {"event_type": "gas_alarm"},
    "op": "both_present",
    "window_s": 30 * DAY,
}


def reg(tenants: Any, day: float = 0.0, event_id: str = "reg-1") -> Record:
    return Record(
        T0 + timedelta(days=day),
        "housing",
        "rental_registration",
        {"declared_tenants": tenants},
        event_id,
    )


def util(occupants: Any, day: float = 3.0, event_id: str = "util-9") -> Record:
    return Record(
        T0 + timedelta(days=day),
        "utility",
        "utility_occupancy",
        {"estimated_occupants": occupants},
        event_id,
    )


def rec(event_type: str, day: float, event_id: str) -> Record:
    return Record(T0 + timedelta(days=day), "d", event_type, {}, event_id)


def rental(**over: Any) -> Collision:
    return Collision.from_params({**RENTAL, **over})


def test_two_declared_against_ten_living_there_is_a_collision() -> None:
    det = rental()
    det.learn_one(reg(2))
    assert det.score_one(util(10)) == 1.0
    assert det.evidence(util(10)) == ["reg-1", "util-9"]
    assert det.indicators(util(10)) == {
        "rental_registration.declared_tenants": 2.0,
        "utility_occupancy.estimated_occupants": 10.0,
    }


def test_two_declared_against_four_is_not() -> None:
    det = rental()
    det.learn_one(reg(2))
    assert det.score_one(util(4)) == pytest.approx(0.4)
    assert det.score_one(util(4)) < Collision.default_trigger().threshold


@given(
    left=st.integers(1, 100),
    right=st.integers(0, 1000),
    value=st.floats(0.1, 10.0),
)
def test_ratio_score_is_half_at_the_value_and_one_at_twice_it(
    left: int, right: int, value: float
) -> None:
    det = rental(value=value)
    det.learn_one(reg(left))
    score = det.score_one(util(right))
    ratio = right / left
    assert score == pytest.approx(min(1.0, 0.5 * ratio / value))
    assert (score >= 0.5) == (ratio >= value) or score == pytest.approx(0.5)


@pytest.mark.parametrize(("occupants", "score"), [(3, 1.0), (0, 0.0)])
def test_nobody_declared(occupants: int, score: float) -> None:
    det = rental()
    det.learn_one(reg(0))
    assert det.score_one(util(occupants)) == score


def test_order_does_not_matter() -> None:
    det = rental()
    det.learn_one(util(10, day=0))  # the utility estimate came first
    late_reg = reg(2, day=3)
    assert det.score_one(late_reg) == 1.0
    assert det.evidence(late_reg) == ["reg-1", "util-9"]  # still left, then right
    assert det.indicators(late_reg) == {
        "rental_registration.declared_tenants": 2.0,
        "utility_occupancy.estimated_occupants": 10.0,
    }


@pytest.mark.parametrize(("gap_days", "score"), [(29.99, 1.0), (30.0, 1.0), (30.01, 0.0)])
def test_only_within_the_window(gap_days: float, score: float) -> None:
    det = rental()
    det.learn_one(reg(2))
    assert det.score_one(util(10, day=gap_days)) == score
    det2 = rental()  # and the other way round
    det2.learn_one(util(10, day=gap_days))
    assert det2.score_one(reg(2, day=0)) == score


def test_outside_the_window_the_evidence_is_only_the_record() -> None:
    det = rental()
    det.learn_one(reg(2))
    x = util(10, day=40)
    assert det.evidence(x) == ["util-9"]
    assert det.indicators(x) == {}


def test_nothing_without_the_other_side() -> None:
    det = rental()
    assert det.score_one(util(10)) == 0.0
    det.learn_one(util(10))
    assert det.score_one(util(50, day=4)) == 0.0  # two of the same side are no collision
    assert det.is_warm()


def test_both_present() -> None:
    det = Collision.from_params(FIRE_GAS)
    alarm = rec("gas_alarm", 10, "gas-3")
    assert det.score_one(alarm) == 0.0
    det.learn_one(rec("fire_inspection_failed", 0, "fire-1"))
    assert det.score_one(alarm) == 1.0
    assert det.evidence(alarm) == ["fire-1", "gas-3"]
    assert det.indicators(alarm) == {}
    assert det.score_one(rec("gas_alarm", 31, "gas-4")) == 0.0
    assert det.score_one(rec("unrelated", 10, "x")) == 0.0
    assert det.event_types() == {"fire_inspection_failed", "gas_alarm"}


@pytest.mark.parametrize("bad", ["2", None, True, False, [2], {"n": 2}])
def test_a_non_numeric_or_bool_field_is_ignored(bad: Any) -> None:
    det = rental()
    det.learn_one(reg(bad))
    assert det.state() == {}
    assert det.score_one(util(10)) == 0.0
    det.learn_one(reg(2))
    assert det.score_one(util(bad)) == 0.0
    det.learn_one(util(bad, day=5))  # a bad newer record does not hide the older good one
    assert det.state() == {"l": [T0.timestamp(), 2.0, "reg-1"]}


def test_a_missing_field_is_ignored() -> None:
    det = rental()
    det.learn_one(Record(T0, "housing", "rental_registration", {}, "reg-0"))
    assert det.state() == {}


def test_an_older_record_does_not_replace_a_newer_one() -> None:
    det = rental()
    det.learn_one(reg(2, day=10, event_id="reg-new"))
    det.learn_one(reg(10, day=1, event_id="reg-old"))  # arrives late
    x = util(10, day=11)
    assert det.score_one(x) == 1.0  # 10 / 2, not 10 / 10
    assert det.evidence(x) == ["reg-new", "util-9"]
    det.learn_one(reg(10, day=10, event_id="reg-same-time"))  # same time: the later one wins
    assert det.evidence(x) == ["reg-same-time", "util-9"]


def test_records_of_other_types_are_ignored() -> None:
    det = rental()
    det.learn_one(rec("noise_complaint", 0, "n-1"))
    assert det.state() == {}
    assert det.score_one(rec("noise_complaint", 0, "n-1")) == 0.0
    assert det.evidence(rec("noise_complaint", 0, "n-1")) == ["n-1"]


def test_state_is_the_latest_of_each_side_and_survives_json() -> None:
    det = rental()
    det.learn_one(reg(2))
    det.learn_one(util(10))
    state = json.loads(json.dumps(det.state()))
    assert state == {
        "l": [T0.timestamp(), 2.0, "reg-1"],
        "r": [(T0 + timedelta(days=3)).timestamp(), 10.0, "util-9"],
    }
    restored = Collision.restore(RENTAL, state)
    assert restored.score_one(reg(2, day=5)) == det.score_one(reg(2, day=5)) == 1.0


def test_default_trigger_fires_at_half() -> None:
    assert Collision.default_trigger() == Trigger(threshold=0.5, clear=0.0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({**RENTAL, "op": "ratio_lt"}, "op must be one of"),
        ({**RENTAL, "left": {"event_type": "rental_registration"}}, "ratio_gt needs a field"),
        ({**RENTAL, "right": {"event_type": "utility_occupancy"}}, "ratio_gt needs a field"),
        ({**RENTAL, "value": 0}, "value > 0"),
        ({k: v for k, v in RENTAL.items() if k != "value"}, "value > 0"),
        ({**RENTAL, "window_s": 0}, "window_s must be > 0"),
        (
            {**RENTAL, "left": {"event_type": "a", "field": "x", "fields": "y"}},
            r"left: unknown keys \['fields'\]",
        ),
        ({**RENTAL, "right": {"field": "x"}}, "right must be a mapping with 'event_type'"),
        ({**RENTAL, "right": "utility_occupancy"}, "right must be a mapping"),
        ({k: v for k, v in RENTAL.items() if k != "op"}, r"missing parameters \['op'\]"),
        ({**RENTAL, "within": 3}, r"unknown parameters \['within'\]"),
    ],
)
def test_bad_parameters_raise_naming_the_kind(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=r"^collision: ") as err:
        Collision.from_params(params)
    assert err.match(message)


def test_both_present_needs_no_fields_or_value() -> None:
    det = Collision.from_params(FIRE_GAS)
    assert det.left.field is None and det.value == 0.0
