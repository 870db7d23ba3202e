"""Event-time plausibility: which times from outside the pipeline it may believe.

At the very edge of the flow (**reading** / department record / lifecycle update
→ signal → alert → order → notification), before any agent sees an input. Event
time drives everything downstream: detectors' seasons, windows, watermarks,
lateness, SLA deadlines met. A gateway whose clock jumped to 9999-12-31, or a
sensor whose real-time clock battery died and reports 1970, would otherwise move
a scope's watermark years ahead (every real signal after it "late") or fill a
history with empty years. So an input is refused (dead-lettered as
``implausible_time``) when its event time is further ahead of the worker's clock
than an allowed skew, or, if a horizon is configured, older than the horizon.

>>> from datetime import UTC, datetime, timedelta
>>> now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
>>> bounds = TimeBounds(ahead_s=300)
>>> bounds.judge(now + timedelta(minutes=4), now) is None
True
>>> print(bounds.judge(datetime(9999, 12, 31, tzinfo=UTC), now))
event_time 9999-12-31T00:00:00+00:00 is 2912108.7 days ahead of the clock \
(2026-11-30T08:00:00+00:00); at most 300 s is allowed
>>> TimeBounds(ahead_s=300, horizon_s=86400).judge(datetime(1970, 1, 1, tzinfo=UTC), now)[:61]
'event_time 1970-01-01T00:00:00+00:00 is 20787.3 days behind t'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimeBounds:
    """How far ahead of the clock (``ahead_s``) and how far behind it (``horizon_s``,
    ``None``: any age) an input's event time may be."""

    ahead_s: float
    horizon_s: float | None = None

    def __post_init__(self) -> None:
        if self.ahead_s < 0 or (self.horizon_s is not None and self.horizon_s <= 0):
            raise ValueError(f"time bounds must be positive: {self}")

    def judge(self, t: datetime, now: datetime) -> str | None:
        """Why ``t`` is implausible at ``now`` (a dead-letter detail), or ``None``."""
        # both aware: the difference is exact even where converting one to UTC would
        # overflow (9999-12-31T23:59:59-12:00 is in the year 10000 in UTC)
        ahead = (t - now).total_seconds()
        if ahead > self.ahead_s:
            return (
                f"event_time {t.isoformat()} is {_span(ahead)} ahead of the clock "
                f"({now.isoformat()}); at most {self.ahead_s:g} s is allowed"
            )
        if self.horizon_s is not None and -ahead > self.horizon_s:
            return (
                f"event_time {t.isoformat()} is {_span(-ahead)} behind the clock "
                f"({now.isoformat()}); the horizon is {self.horizon_s:g} s"
            )
        return None


def _span(seconds: float) -> str:
    if seconds < 86400:
        return f"{seconds:.1f} s"
    return f"{seconds / 86400:.1f} days"
