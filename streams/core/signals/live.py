"""A key's detectors kept live between two writes of its state (reading → **signal**).

:class:`~streams.core.signals.detect.Detection` stores a key's state (a sensor's,
a place's) as compact JSON: per risk point the detector's state ``d``, its
trigger's ``g`` and the re-checks of auto-disposal ``c``. Restoring the detectors
from that string and dumping them again for every observation costs more than the
detection itself, so a caller that sees many observations of a key between two
writes holds a :class:`Live` instead (:meth:`Detection.load`,
:meth:`Detection.observe_live`, :meth:`Detection.dump`): the same state, its
detectors as objects. The JSON path is this one with one load and one dump, so
both give the same signals and the same state. The same state remembers the
key's last few event ids with their content (:meth:`Live.remember`), so that
an input sent twice is taken once and an id reused for other content is refused,
and its position in each input log (:meth:`Live.taken`), so that an input read
again after a restart, which the stored state has already taken, changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streams.core.signals.detectors import Detector

#: Where a key's latest event ids are stored beside its risk points (never a risk point id).
IDS = "~ids"
#: Where a key's position in each input log is stored (the last input it took).
AT = "~at"
#: Where a sensor's ``seen`` record is stored: its kind, place, latest event time, that
#: reading's id and whether its silence was signalled (:mod:`streams.core.signals.silence`).
SEEN = "~seen"
#: How many of a key's latest event ids are remembered, to tell a repeat (skipped) from a
#: conflict (an id sent again with other content: dead-lettered).
KEEP_IDS = 8


@dataclass
class _Slot:
    """One risk point of a live key: its detector, trigger state and re-checks."""

    det: Detector[Any]
    g: Any
    c: Any


class Live:
    """A key's state between two writes: each risk point's detector a live object.

    Built from the stored JSON (:meth:`Detection.load`); a risk point's detector is
    restored the first time it is observed, and :meth:`stored` gives the JSON form
    back (:meth:`Detection.dump`), risk points never observed as they were stored.
    """

    __slots__ = ("_raw", "_slots", "at", "ids", "seen")

    def __init__(self, raw: dict[str, Any]) -> None:
        #: the key's latest event ids with their content, oldest first (:meth:`remember`)
        self.ids: list[list[Any]] = raw.pop(IDS, None) or []
        #: per input log, the position of the last input the key took (:meth:`taken`)
        self.at: dict[str, list[Any]] = raw.pop(AT, None) or {}
        #: a watched sensor's ``seen`` record, kept for its dead-man's switch
        self.seen: list[Any] | None = raw.pop(SEEN, None)
        self._raw = raw
        self._slots: dict[str, _Slot] = {}

    def taken(self, log: str, position: int, t: float) -> bool:
        """Whether the key took the input at ``position`` of ``log`` (event time ``t``,
        Unix s) already: its state is past both (a replay after a restart, whose outputs
        went out before this state was written). A log made again from position 0 is not
        mistaken for a replay: its inputs are newer than what the key took.

        >>> live = Live({})
        >>> live.taken("readings", 7, 100.0)
        False
        >>> live.take("readings", 7, 100.0)
        >>> live.taken("readings", 7, 100.0), live.taken("readings", 8, 101.0)
        (True, False)
        >>> live.taken("readings", 0, 200.0)  # the log made again: a newer reading
        False
        """
        last = self.at.get(log)
        return last is not None and position <= last[0] and t <= last[1]

    def take(self, log: str, position: int, t: float) -> None:
        """Record that the key took the input at ``position`` of ``log`` (event time ``t``)."""
        last = self.at.get(log)
        self.at[log] = [position, t if last is None else max(t, last[1])]

    def see(self, kind: str, place_id: str, t: float, reading_id: str) -> None:
        """Keep a reading as the sensor's ``seen`` record, if it is its newest."""
        if self.seen is None or t >= self.seen[2]:
            self.seen = [kind, place_id, t, reading_id, 0]

    def remember(self, event_id: str, content: Any) -> Any:
        """The content ``event_id`` was seen with among the key's last :data:`KEEP_IDS`
        events, or ``None`` if it was not (it is remembered now, the oldest forgotten).
        The same content again is a repeat; other content, a conflict.

        >>> live = Live({})
        >>> live.remember("r1", [1.0, 0.0]), live.remember("r1", [2.0, 0.0])
        (None, [1.0, 0.0])
        >>> live.stored()
        {'~ids': [['r1', [1.0, 0.0]]]}
        """
        for seen, was in self.ids:
            if seen == event_id:
                return was
        self.ids.append([event_id, content])
        if len(self.ids) > KEEP_IDS:
            del self.ids[0]
        return None

    def slot(
        self, rp_id: str, cls: type[Detector[Any]], params: Mapping[str, Any], seed: int
    ) -> _Slot:
        """Risk point ``rp_id``'s slot, its detector (``cls`` with ``params``) restored
        from the stored state the first time."""
        slot = self._slots.get(rp_id)
        if slot is None:
            entry = self._raw.get(rp_id) or {}
            det = cls.from_params(params, seed)
            if "d" in entry:
                det.load(entry["d"])
            slot = self._slots[rp_id] = _Slot(det, entry.get("g"), entry.get("c"))
            self._raw.setdefault(rp_id, None)  # keeps the stored order of risk points
        return slot

    def stored(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for rp_id, entry in self._raw.items():
            slot = self._slots.get(rp_id)
            if slot is None:
                out[rp_id] = entry
                continue
            new: dict[str, Any] = {"d": slot.det.state(), "g": slot.g}
            if slot.c:
                new["c"] = slot.c
            out[rp_id] = new
        if self.ids:
            out[IDS] = self.ids
        if self.at:
            out[AT] = self.at
        if self.seen is not None:
            out[SEEN] = self.seen
        return out
