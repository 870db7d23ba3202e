"""The injectable clock: real time, or simulated time running faster than the wall.

Beside every hop that stamps or compares times, above all the SLA deadlines
(alert → **order** → breach). Tests run hours of SLA time in seconds against a
real worker by starting it with a simulated clock:

    simulated now = min(epoch + (wall now - anchor) * speed, until)

``until`` (optional) is where a simulated clock stops: a simulated day that
ends stays at its end, so nothing judged on the clock (deadlines, re-checks)
moves on while what was sent in the day is drained and read.

``anchor`` defaults to ``epoch``, so ``YUJING_CLOCK_EPOCH=<wall time at test
start>`` with ``YUJING_CLOCK_SPEED=60`` makes one wall second one simulated
minute. The formula depends only on its settings and the wall clock, so a
worker restarted (even after ``kill -9``) with the same settings reads the same
simulated time as the one that died: deadlines survive restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.core.shared.config import ConfigError

Clock = Callable[[], datetime]


def wall_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ScaledClock:
    """A clock that runs ``speed`` times as fast as ``wall``, from ``epoch`` at ``anchor``.

    >>> from datetime import timedelta
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> walls = iter([t0 + timedelta(seconds=5)])
    >>> ScaledClock(epoch=t0, anchor=t0, speed=60.0, wall=lambda: next(walls))()
    datetime.datetime(2026, 1, 1, 0, 5, tzinfo=datetime.timezone.utc)
    """

    epoch: datetime
    anchor: datetime
    speed: float
    wall: Clock = wall_now
    until: datetime | None = None

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ConfigError(f"clock speed must be > 0, got {self.speed}")
        for name in ("epoch", "anchor"):
            if getattr(self, name).tzinfo is None:
                raise ConfigError(f"clock {name} must carry a UTC offset")

    def __call__(self) -> datetime:
        now = self.epoch + (self.wall() - self.anchor) * self.speed
        return now if self.until is None or now < self.until else self.until


def parse_instant(text: str, what: str) -> datetime:
    """An ISO-8601 time with offset, or seconds since the Unix epoch.

    >>> parse_instant("1767225600", "epoch")
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_instant("2026-01-01T00:00:00", "epoch")
    Traceback (most recent call last):
    ...
    streams.core.shared.config.ConfigError: epoch '2026-01-01T00:00:00' needs a UTC offset
    """
    try:
        return datetime.fromtimestamp(float(text), tz=UTC)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{what} {text!r} is neither ISO-8601 nor Unix seconds") from None
    if dt.tzinfo is None:
        raise ConfigError(f"{what} {text!r} needs a UTC offset")
    return dt


def make_clock(epoch: str = "", speed: float = 1.0, anchor: str = "", until: str = "") -> Clock:
    """The wall clock when ``epoch`` is empty and ``speed`` is 1, else a :class:`ScaledClock`.

    >>> stop = make_clock("2026-01-01T00:00:00+00:00", 1000, "2025-12-31T00:00:00+00:00",
    ...                   until="2026-01-02T00:00:00+00:00")
    >>> stop().isoformat()
    '2026-01-02T00:00:00+00:00'
    """
    if not epoch and not anchor and not until and speed == 1.0:
        return wall_now
    start = parse_instant(epoch, "clock epoch") if epoch else wall_now()
    at = parse_instant(anchor, "clock anchor") if anchor else start
    end = parse_instant(until, "clock until") if until else None
    if end is not None and end < start:
        raise ConfigError(f"clock until {until!r} is before its epoch")
    return ScaledClock(epoch=start, anchor=at, speed=speed, until=end)
