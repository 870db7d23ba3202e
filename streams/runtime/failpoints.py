"""Test-only fault injection, named by ``YUJING_FAILPOINT`` (never set in production).

Where this sits: beside the runtime, at the two places where a crash proves a
guarantee of the flow. ``die_after_breach`` exits like ``kill -9`` right after an
SLA breach is on the broker and before the order tracker stores its mark (the
breach read-back must then keep it from being published twice);
``lose_handover:<topic>`` makes the consumer lose one record on its way to an
agent (the stall watchdog must then read it again; see
:mod:`streams.runtime.consumer`); ``die_with_outputs_in_flight:<n>`` exits like
``kill -9`` as soon as one event leaves at least ``n`` outputs in flight, its
state moved on in memory (nothing of it may be lost or doubled after a restart;
see :mod:`streams.runtime.checkpoint`).
"""

from __future__ import annotations

import logging
import os

from streams.runtime.settings import Settings

log = logging.getLogger(__name__)

DIE_AFTER_BREACH = "die_after_breach"
LOSE_HANDOVER = "lose_handover:"
DIE_IN_FLIGHT = "die_with_outputs_in_flight:"


def die_after_breach(settings: Settings, breached: bool) -> None:
    """Exit like ``kill -9`` if the failpoint is set and a breach was just published."""
    if breached and settings.failpoint == DIE_AFTER_BREACH:
        log.warning("failpoint %s: exiting without storing the marks", DIE_AFTER_BREACH)
        logging.shutdown()
        os._exit(137)


def lost_handover_topic(settings: Settings) -> str | None:
    """The physical topic whose first record the consumer loses, if the failpoint is set."""
    if not settings.failpoint.startswith(LOSE_HANDOVER):
        return None
    return settings.topic(settings.failpoint.removeprefix(LOSE_HANDOVER))


def die_in_flight(settings: Settings) -> int:
    """How many outputs in flight make the worker exit (0: never; the failpoint unset)."""
    if not settings.failpoint.startswith(DIE_IN_FLIGHT):
        return 0
    return int(settings.failpoint.removeprefix(DIE_IN_FLIGHT))
