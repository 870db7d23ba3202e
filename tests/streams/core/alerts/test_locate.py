"""Locating signals (streams.core.alerts.locate): scopes, lateness, and repeats."""

from __future__ import annotations

from districts import small_regions
from scope_scenario import signal

from streams.core.alerts.locate import KEEP_SIGNAL_IDS, locate

LATENESS = 600.0
PLACE = "site.restaurant.wuchang-01"


def test_a_signal_is_copied_to_every_scope_of_its_place() -> None:
    found = locate(signal("restaurant_gas_leak", PLACE, 0), None, 0, LATENESS, small_regions())
    assert found.late is None and not found.repeat
    assert [s.scope_key for s in found.scoped] == [
        "town:wuchang",
        "district:yuhang",
        "industry:catering",
    ]


def test_a_signal_far_behind_its_place_is_late() -> None:
    index = small_regions()
    clock = None
    for n, minutes in enumerate((60, 61)):
        clock = locate(
            signal("restaurant_gas_leak", PLACE, minutes), clock, n, LATENESS, index
        ).clock
    found = locate(signal("restaurant_gas_leak", PLACE, 0), clock, 2, LATENESS, index)
    assert found.late is not None and found.scoped == [] and not found.repeat


def test_a_signal_published_again_is_a_repeat_not_a_late_one() -> None:
    # A worker restarted after kill -9 publishes its last signals again, same ids, later
    # offsets; by then the place's clock has moved on: they are taken once, silently.
    index = small_regions()
    first = signal("restaurant_gas_leak", PLACE, 0)
    clock = locate(first, None, 0, LATENESS, index).clock
    for n, minutes in enumerate((60, 61), start=1):
        clock = locate(
            signal("restaurant_gas_leak", PLACE, minutes), clock, n, LATENESS, index
        ).clock
    again = locate(first, clock, 3, LATENESS, index)
    assert again.repeat and again.late is None and again.scoped == []
    assert again.clock == clock  # nothing to write


def test_the_clock_remembers_a_bounded_number_of_ids() -> None:
    index = small_regions()
    clock = None
    for n in range(KEEP_SIGNAL_IDS + 5):
        clock = locate(signal("restaurant_gas_leak", PLACE, n, n), clock, n, LATENESS, index).clock
    assert clock is not None and len(clock["ids"]) == KEEP_SIGNAL_IDS
