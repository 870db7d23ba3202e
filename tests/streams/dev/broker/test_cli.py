"""Tests of ``yujing broker ...`` (streams.dev.broker.cli) where no broker runs.

The command line against a running broker is checked in ``test_local.py``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., int]  # the ``yujing`` fixture: argv -> exit code


def test_cli_status_of_a_stopped_broker(
    tmp_path: Path, free_ports: tuple[int, int], yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    port, controller_port = free_ports
    code = yujing(
        "broker",
        "--home",
        str(tmp_path),
        "--port",
        str(port),
        "--controller-port",
        str(controller_port),
        "status",
    )
    assert code == 3
    assert capsys.readouterr().out.strip() == (
        f"running=no answering=no pid=- bootstrap=127.0.0.1:{port}"
    )


def test_cli_stop_when_nothing_runs(
    tmp_path: Path, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    assert yujing("broker", "--home", str(tmp_path), "stop") == 0
    assert capsys.readouterr().out.strip() == f"no broker was running for {tmp_path.resolve()}"


def test_cli_errors_go_to_stderr_with_exit_2(
    tmp_path: Path, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        code = yujing("broker", "--home", str(tmp_path), "--port", str(port), "start")
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"yujing broker: port {port} ")
    assert err.count("\n") == 1  # one line, not a traceback


def test_cli_a_bad_environment_is_one_line(
    monkeypatch: pytest.MonkeyPatch, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("YUJING_BROKER_PORT", "kafka")
    assert yujing("broker", "status") == 2
    err = capsys.readouterr().err
    assert err.startswith("yujing broker: ") and "YUJING_BROKER_PORT" in err
