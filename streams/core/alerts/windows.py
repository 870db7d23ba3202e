"""Event-time windows and lateness: the pure part of the windowed joins.

(signal → **scoped signal** → compound / systemic alert.) Windows are
tumbling, aligned to the Unix epoch, in event time. Lateness is judged per
place, where Kafka keeps order (signals are keyed by place): a signal more
than the allowed lateness behind the newest signal of its place is late and
goes to the dead-letter topic, never silently dropped. Nothing here depends on
wall-clock time or on a window-close callback; the watermark is stored data.
A watermark is the *second* newest event time seen (:func:`advance`): one
outlier, a time no other event confirms, never moves it.

Aggregation inside a window is a set keyed by signal id, so it is
independent of arrival order and idempotent under redelivery.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

MAX_LATE_OFFSETS = 64


def epoch(t: datetime) -> float:
    return t.timestamp()


def window_start(t: float, size_s: int) -> int:
    """Start (Unix seconds) of the tumbling window of ``size_s`` that holds ``t``.

    >>> window_start(7199.5, 3600), window_start(7200.0, 3600), window_start(-1.0, 60)
    (3600, 7200, -60)
    """
    return math.floor(t / size_s) * size_s


_MIN_TS = datetime.min.replace(tzinfo=UTC).timestamp()
_MAX_TS = datetime.max.replace(tzinfo=UTC).timestamp()


def to_dt(ts: float) -> datetime:
    """Unix seconds as an aware UTC datetime, clamped to what a datetime can hold, so a
    stored time from a bad clock (9999-12-31T23:59:59-12:00 is in the year 10000 in UTC)
    still shows rather than failing whoever reads it.

    >>> to_dt(0).isoformat(), to_dt(1e12).isoformat()
    ('1970-01-01T00:00:00+00:00', '9999-12-31T23:59:59.999999+00:00')
    """
    if ts >= _MAX_TS:
        return datetime.max.replace(tzinfo=UTC)
    if ts <= _MIN_TS:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromtimestamp(ts, tz=UTC)


def advance(head: float | None, wm: float | None, t: float) -> tuple[float, float | None]:
    """The newest time seen and the watermark after an event at ``t``.

    The watermark is the second newest time: it moves only once two events agree
    the clock has got there, so a single outlier (a gateway stamping 9999) stays
    in ``head`` and blinds nothing; the next real event takes its place beside it.
    It never goes back. State from before ``head`` was kept counts its watermark
    as the newest time too.

    >>> head, wm = advance(None, None, 100.0); head, wm
    (100.0, None)
    >>> head, wm = advance(head, wm, 200.0); head, wm
    (200.0, 100.0)
    >>> head, wm = advance(head, wm, 9e10); head, wm
    (90000000000.0, 200.0)
    >>> advance(head, wm, 210.0)
    (90000000000.0, 210.0)
    """
    if head is None:
        head = wm
    if head is None:
        return t, None
    if t >= head:
        return t, head if wm is None else max(wm, head)
    return head, t if wm is None else max(wm, t)


def judge_place(
    state: dict[str, Any] | None, t: float, offset: int, lateness_s: float
) -> tuple[dict[str, Any], bool]:
    """New per-place clock state, and whether the signal at ``offset`` (event time ``t``) is late.

    Late means: more than ``lateness_s`` behind the place's watermark, the second
    newest signal time seen there (:func:`advance`).
    A redelivered offset (at or below the last one judged, as after a crash
    where the table got ahead of the committed offsets) gets the decision it
    got the first time, so a replay never turns an accepted signal into a
    late one. Late offsets are remembered (bounded) for exactly that.

    >>> s, late = judge_place(None, 100.0, 0, 10)
    >>> s, late = judge_place(s, 200.0, 1, 10); late
    False
    >>> s, late = judge_place(s, 195.0, 2, 10); late
    False
    >>> s, late = judge_place(s, 150.0, 3, 10); late, s["wm"]
    (True, 195.0)
    >>> judge_place(s, 150.0, 3, 10)[1], judge_place(s, 195.0, 2, 10)[1]
    (True, False)
    """
    st = dict(state or {"wm": None, "last": -1, "late": []})
    if offset <= st["last"]:
        return st, offset in st["late"]
    wm = st["wm"]
    late = wm is not None and t < wm - lateness_s
    st["last"] = offset
    if late:
        st["late"] = [*st["late"], offset][-MAX_LATE_OFFSETS:]
    else:
        st["head"], st["wm"] = advance(st.get("head"), wm, t)
    return st, late
