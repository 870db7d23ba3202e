"""The README's commands, typed as a newcomer types them, work.

Each README block marked ``tested verbatim by ... (NAME)`` runs as a bash
script, exactly as written, in a folder outside the checkout, with ``yujing``
on ``PATH`` and nothing else of this test session: no ``YUJING_KAFKA_BOOTSTRAP``
and no ``YUJING_HOME``, so the block's own ``yujing broker start`` starts a
fresh local broker with no topics at all (in ``./.yujing`` of that folder).
The newcomer's environment only moves the ports (``YUJING_BROKER_PORT``,
``YUJING_WEB_PORT``, ``YUJING_SMS_URL``, ...) and the data home
(``XDG_DATA_HOME``) away from other runs on this machine. Commands ending in
``&`` run in the background as written; the test stops everything it started,
and the broker with ``yujing broker stop``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from readme import README, newcomer_env, readme_block
from support import wait_for

from schemas.registry import TOPICS
from streams.dev.runner import get_json

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


@dataclass
class Newcomer:
    """A shell outside the checkout with ``yujing`` on PATH and ports of its own."""

    cwd: Path
    env: dict[str, str]
    scripts: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def sms_url(self) -> str:
        return self.env["YUJING_SMS_URL"]

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.env['YUJING_BROKER_PORT']}"

    def run(self, block: str, name: str) -> tuple[subprocess.Popen[bytes], Path]:
        """Start ``block`` as a bash script; its output (and its children's) goes to a log."""
        log = self.cwd / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                ["bash", "-c", block],
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its background jobs stay in its process group
            )
        self.scripts.append(proc)
        return proc, log

    def stop(self) -> None:
        for proc in self.scripts:
            _stop_group(proc.pid)
        subprocess.run(
            [str(BIN / "yujing"), "broker", "stop"],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            timeout=60,
        )


def _stop_group(pgid: int) -> None:
    """SIGTERM the script's process group (its background jobs), then SIGKILL what is left."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def gone() -> bool:
        try:
            os.killpg(pgid, 0)
            return False
        except ProcessLookupError:
            return True

    try:
        wait_for(gone, timeout=20, what=f"process group {pgid} to stop")
    except AssertionError:
        os.killpg(pgid, signal.SIGKILL)


@pytest.fixture
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newcomer]:
    assert (BIN / "yujing").exists(), f"no yujing next to {sys.executable}: run `make setup`"
    cwd = tmp_path_factory.mktemp("newcomer")
    env = newcomer_env(BIN, XDG_DATA_HOME=str(cwd / "data-home"))
    person = Newcomer(cwd, env)
    try:
        yield person
    finally:
        person.stop()
        for log in sorted(cwd.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-30:]
            print(f"--- {log.name}\n" + "\n".join(tail))


def _topics_and_groups(bootstrap: str) -> tuple[dict[str, int], list[str]]:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        names = [t for t in admin.list_topics() if not t.startswith("__")]
        counts = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}
        groups = [g["group_id"] for g in admin.list_groups()]
        return counts, groups
    finally:
        admin.close()


def test_a_worker_started_as_the_readme_shows_turns_a_reading_into_an_sms(
    newcomer: Newcomer,
) -> None:
    assert not str(newcomer.cwd).startswith(str(README.parent))
    script, log = newcomer.run(readme_block("README_WORKER"), "worker-block")
    assert script.wait(timeout=240) == 0, log.read_text(errors="replace")

    def sms() -> list[dict[str, object]]:
        try:
            return list(get_json(f"{newcomer.sms_url}/v1/messages")[1]["messages"])
        except OSError:
            return []

    messages = wait_for(sms, timeout=120, what="the SMS of the README's gas reading")
    assert len(messages) == 1, messages
    assert "site.linping.noodle-house" in str(messages[0]["text"]), messages
    assert "*" in str(messages[0]["to"])  # the stub keeps masked numbers only
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text
    assert re.search(r"sms to \+\S*\*+\S*: ", text), text  # the sinks say what they received

    # the worker created what it uses, with the configured partitions, and stays up
    counts, groups = _topics_and_groups(newcomer.bootstrap)
    for name in TOPICS:
        assert counts.get(name) == 2, (name, counts)
    assert counts["yujing-orders-changelog"] == 2, counts
    assert "yujing" in groups
    status, ready = get_json(f"http://127.0.0.1:{newcomer.env['YUJING_WEB_PORT']}/ready")
    assert status == 200 and ready["ready"], ready
    # its data lives in the data home, not in the folder it was started from
    assert (newcomer.cwd / "data-home" / "yujing" / "worker" / "yujing").is_dir()
    assert not (newcomer.cwd / ".yujing" / "worker").exists()


def _simulate_truth(newcomer: Newcomer, block: str) -> list[dict[str, object]]:
    """The ground truth of the README's ``simulate --kafka`` line, run with ``--out``."""
    line = next(ln for ln in block.splitlines() if ln.strip().startswith("yujing simulate --kafka"))
    args = shlex.split(line.split("#", 1)[0].rstrip().rstrip("&"))
    out = newcomer.cwd / "truth-run.jsonl"
    args = [str(out) if a == "--kafka" else a for a in args]
    args.insert(args.index(str(out)), "--out")
    args = [a for a in args if a != "--quiet"] + ["--quiet", "--speed", "0"]
    subprocess.run(
        [str(BIN / "yujing"), *args[1:]], cwd=newcomer.cwd, check=True, capture_output=True
    )
    lines = out.with_suffix(".truth.jsonl").read_text().splitlines()
    return [json.loads(t) for t in lines]


def _with(text: str, needle: str) -> str:
    return text if needle in text else ""


def test_the_readme_simulation_shows_linping_alerts_live_on_its_own_prefix(
    newcomer: Newcomer,
) -> None:
    block = readme_block("README_SIMULATE")
    truth = _simulate_truth(newcomer, block)
    incidents = {t["place_id"] for t in truth if t["type"] == "incident"}
    explained = incidents | {t["place_id"] for t in truth}  # sensor faults may alarm too
    assert any(str(p).split(".")[1] == "linping" for p in incidents)

    script, log = newcomer.run(block, "simulate-block")

    def progress() -> str:
        text = log.read_text(errors="replace")
        if script.poll() is not None:
            raise AssertionError(f"the README block ended ({script.returncode}):\n{text}")
        return text

    # the tail runs in the foreground; the simulator says when it has produced the day
    wait_for(lambda: "produced " in progress(), timeout=240, what="the simulator to finish")
    text = wait_for(lambda: _with(progress(), "ALERT "), timeout=120, what="an alert")
    alerts = re.findall(r"ALERT (\w+)\s.*\n\s+where\s+(\S+) \(town (\w+)\)", text)
    assert alerts, text
    for level, place, town in alerts:
        assert level in ("HIGH", "CRITICAL"), text
        assert town == "linping", text
        assert place in explained, (place, text)
    assert any(place in incidents for _, place, _ in alerts), text
    assert "Traceback" not in text, text

    # the prefix isolates the run: every topic and consumer group on this fresh broker is sim.'s
    counts, groups = _topics_and_groups(newcomer.bootstrap)
    assert counts and all(name.startswith("sim.") for name in counts), counts
    assert counts["sim.yujing-orders-changelog"] == 2, counts
    assert groups == ["sim.yujing"], groups


@pytest.mark.timeout(1800)
def test_the_readme_district_day_runs_a_whole_day_and_ends_with_its_line(
    newcomer: Newcomer,
) -> None:
    """The README's ``yujing district-day``, verbatim, with defaults: a whole day.

    No broker is configured, so the command starts its own (the newcomer's ports).
    What is asserted is what the day promises whatever the machine: the line's
    keys, a district-sized day, nothing lost, no notification accepted twice,
    exactly the breaches its people made inevitable, every systemic kind raised.
    The figures the README quotes are one run's; they are not asserted here, and
    neither is the wall time (a timed test proves nothing about speed).
    """
    from streams.tools.day.outcome import KEYS

    script, log = newcomer.run(readme_block("README_DISTRICT_DAY"), "district-day-block")
    assert script.wait(timeout=1700) == 0, log.read_text(errors="replace")[-5000:]
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-5000:]
    line = json.loads(text.strip().splitlines()[-1])
    assert list(line) == list(KEYS), line
    assert line["sensors"] >= 20_000 and line["incidents"] > 0, line
    assert line["alerts"] > 0 and line["orders"] > 0, line
    assert line["lost"] == 0, line
    assert line["duplicate_notifications"] == 0, line
    assert line["sla_breaches_observed"] == line["sla_breaches_expected"], line
    assert set(line["systemic_alerts"]) == {"trend", "regional", "industry", "comprehensive"}
    assert all(n >= 1 for n in line["systemic_alerts"].values()), line
    assert 0 < line["auto_disposed_ratio"] <= 1, line
    assert round(line["auto_disposed_ratio"] * line["orders"]) == line["auto_disposed_per_day"]
    assert 0 <= line["recall"] <= 1 and line["false_alerts_per_1000_sensor_days"] >= 0, line

    # no phone number in clear anywhere the day left data: every topic's raw bytes (the
    # broker's log segments: nothing is compressed), the logs, the workers' and stubs' state
    from phones import known_numbers, scan

    from streams.core.shared.regions import load_regions

    broker_logs = newcomer.cwd / ".yujing" / "broker"
    notifications = list(broker_logs.rglob("*yujing.notifications.v2-*/*.log"))
    assert sum(p.stat().st_size for p in notifications) > 0, "the scan would see no notification"
    found, read = scan([newcomer.cwd], known_numbers(load_regions()))
    assert read[newcomer.cwd] > 0
    assert not found, "numbers in clear:\n" + "\n".join(map(str, found[:20]))
