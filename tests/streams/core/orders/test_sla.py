"""SLA classes and their stage deadlines."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import SlaClass
from streams.core.orders.sla import STAGE_LIMITS, deadlines

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

starts = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]),
)


def test_emergency_limits() -> None:
    assert deadlines(SlaClass.EMERGENCY, T0) == {
        "signed": T0 + timedelta(minutes=5),
        "arrived": T0 + timedelta(minutes=20),
        "resolved": T0 + timedelta(hours=24),
    }


def test_non_emergency_limits() -> None:
    assert deadlines(SlaClass.NON_EMERGENCY, T0) == {
        "signed": T0 + timedelta(hours=24),
        "resolved": T0 + timedelta(days=7),
    }


def test_every_class_has_limits_that_start_signed_and_end_resolved() -> None:
    assert set(STAGE_LIMITS) == set(SlaClass)
    for limits in STAGE_LIMITS.values():
        stages = list(limits)
        assert stages[0] == "signed"
        assert stages[-1] == "resolved"
        assert all(re.fullmatch(r"[a-z0-9_.\-]{1,64}", s) for s in stages)  # schema Name


def test_emergency_is_never_slower_than_non_emergency() -> None:
    emergency, normal = STAGE_LIMITS[SlaClass.EMERGENCY], STAGE_LIMITS[SlaClass.NON_EMERGENCY]
    for stage in set(emergency) & set(normal):
        assert emergency[stage] < normal[stage]


def test_the_limits_are_read_only() -> None:
    with pytest.raises(TypeError):
        STAGE_LIMITS[SlaClass.EMERGENCY]["signed"] = timedelta(0)  # type: ignore[index]
    with pytest.raises(TypeError):
        STAGE_LIMITS[SlaClass.EMERGENCY] = STAGE_LIMITS[SlaClass.NON_EMERGENCY]  # type: ignore[index]


@pytest.mark.parametrize("sla_class", list(SlaClass))
@given(start=starts, shift=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_deadlines_are_later_stage_by_stage_and_shift_with_the_start(
    sla_class: SlaClass, start: datetime, shift: timedelta
) -> None:
    result = deadlines(sla_class, start)
    values = list(result.values())
    assert values[0] > start
    assert values == sorted(values)
    assert all(d.tzinfo is start.tzinfo for d in values)
    later = deadlines(sla_class, start + shift)
    assert {k: v - shift for k, v in later.items()} == result


def test_deadlines_returns_a_fresh_dict() -> None:
    first = deadlines(SlaClass.EMERGENCY, T0)
    first["signed"] = T0
    assert deadlines(SlaClass.EMERGENCY, T0)["signed"] == T0 + timedelta(minutes=5)
