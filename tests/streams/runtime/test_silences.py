"""The detect agent's dead-man's switches (runtime/silences.py) over live sensor states:
a silence is signalled once, and a restart rebuilds the watch from the stored states
(a silence signalled before it stays signalled; one that began before it is caught)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas import RiskSignal, SensorReading
from streams.core.shared.catalogue import load_catalogue
from streams.core.signals.detect import Detection
from streams.core.signals.live import Live
from streams.runtime.live import LiveTable
from streams.runtime.silences import Silences
from streams.runtime.staged import Plain, StagedTable

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
DETECTION = Detection(load_catalogue())


def reading(sensor: str, hour: float, kind: str = "gas_lel") -> SensorReading:
    return SensorReading(
        event_time=T0 + timedelta(hours=hour),
        reading_id=f"{sensor}-{hour:g}",
        sensor_id=sensor,
        sensor_kind=kind,
        place_id=f"place-{sensor}",
        value=1.0,
    )


class Worker:
    """The detect agent's state path without a broker: live states over a staged table."""

    def __init__(self, table: StagedTable) -> None:
        self.table = table
        self.live: LiveTable[Live] = LiveTable(
            table, 1, load=lambda _, s: DETECTION.load(s), dump=DETECTION.dump
        )
        self.silences = Silences(DETECTION.silence_of, self.live)

    def read(self, *readings: SensorReading, at: int | None = None) -> list[RiskSignal]:
        """One input (at position ``at`` of the readings log, if given: replays skip)."""
        rs = list(readings)
        DETECTION.observe_many(rs, self.live.get, NOW, None if at is None else ("readings", at))
        signals, marked = self.silences.observe(0, rs, NOW)
        self.live.mark([*(r.sensor_id for r in rs), *marked])()
        return signals

    def checkpoint(self) -> None:
        self.live.flush()
        self.table.flush()


def test_a_silent_gas_alarm_is_signalled_once() -> None:
    w = Worker(StagedTable(Plain()))
    out = w.read(reading("quiet", 0), reading("busy", 0))
    for h in range(1, 9):
        out += w.read(reading("busy", h))
    assert [(s.source_key, s.risk_point, s.source_event_ids) for s in out] == [
        ("quiet", "gas_sensor_silent", ["quiet-0"])
    ]
    assert out[0].place_id == "place-quiet"  # the signals topic's key: the sensor's place


def test_a_signalled_silence_is_not_signalled_again_after_a_restart() -> None:
    table = StagedTable(Plain())
    w = Worker(table)
    w.read(reading("quiet", 0), reading("busy", 0))
    assert len(w.read(reading("busy", 5))) == 1
    w.checkpoint()
    again = Worker(table)  # a restart: live objects and watches gone, the table kept
    assert again.read(reading("busy", 6), reading("busy", 7)) == []
    assert again.silences.rebuilt == 2


def test_a_silence_that_began_before_a_restart_is_caught_after_it() -> None:
    table = StagedTable(Plain())
    w = Worker(table)
    w.read(reading("quiet", 0), reading("busy", 0))
    w.read(reading("busy", 2))
    w.checkpoint()
    again = Worker(table)
    out = again.read(reading("busy", 5))
    assert [s.source_key for s in out] == ["quiet"]


def test_kinds_without_a_switch_are_not_watched_but_move_the_clock() -> None:
    w = Worker(StagedTable(Plain()))
    assert "water_use_m3h" not in DETECTION.silence_of
    w.read(reading("quiet", 0), reading("meter", 0, kind="water_use_m3h"))
    out = w.read(reading("meter", 9, kind="water_use_m3h"))
    assert [s.source_key for s in out] == ["quiet"]


def test_a_large_table_is_taken_in_steps_and_judged_once_it_is_all_in() -> None:
    """The watches are rebuilt a few thousand states per input, and judge nothing before
    every held state is in (a silent sensor not yet taken would be missed, not wrongly
    judged: the point is that none is judged from half the picture)."""
    table = StagedTable(Plain())
    w = Worker(table)
    w.read(reading("quiet", 0), *(reading(f"busy{i}", 0) for i in range(3)))
    w.checkpoint()
    again = Worker(table)
    again.silences.step = 2  # four held states: two inputs take them, the third sees the end
    assert again.read(reading("busy0", 5)) == []
    assert again.read(reading("busy0", 6)) == []
    out = again.read(reading("busy0", 7))
    assert sorted(s.source_key for s in out) == ["busy1", "busy2", "quiet"]


def test_a_replay_after_a_partly_written_checkpoint_makes_no_sensor_look_silent() -> None:
    """Killed while a checkpoint's states were being written: one sensor's state is
    past the committed offset, another's is not. Reading the log again from the commit,
    the first one's stored record (hours ahead) must not move the partition's clock,
    or the second looks silent before its own readings, read again, arrive (the likely
    cause of five alerts nobody expected in one run of chaos T2)."""
    log = [reading(s, h) for h in range(7) for s in ("ahead", "behind")]  # hourly, both
    table = StagedTable(Plain())
    first = Worker(table)
    for pos in (0, 1):
        first.read(log[pos], at=pos)
    first.checkpoint()  # the offset committed: 2
    behind_then = table["behind"]
    for pos in range(2, len(log)):
        assert first.read(log[pos], at=pos) == []
    first.checkpoint()  # its states written, but the process died before the commit ...
    table["behind"] = behind_then  # ... and only "ahead"'s write reached the changelog
    again = Worker(table)
    out = [s for pos in range(2, len(log)) for s in again.read(log[pos], at=pos)]
    assert out == []
    assert again.silences.rebuilt == 2  # both were taken from the table
    later = again.read(reading("ahead", 12), at=len(log))  # "behind" quiet since hour 6
    assert [(s.source_key, s.source_event_ids) for s in later] == [("behind", ["behind-6"])]
