"""Tests of the ``yujing`` command's worker setup (streams.cli)."""

from __future__ import annotations

import logging
from pathlib import Path

from streams.runtime.app import create_pipeline
from streams.runtime.settings import Settings
from streams.runtime.worker import make_worker


def test_worker_at_warning_level_keeps_debug_records_off(tmp_path: Path) -> None:
    # Faust's spinner would set the root logger to DEBUG at WARNING and above, so
    # every aiokafka debug line would build a record nobody prints.
    pipe = create_pipeline(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path))
    worker = make_worker(pipe.app, "warning")
    assert worker.spinner is None

    logger = logging.Logger("probe", level=logging.WARNING)
    logger.addHandler(logging.NullHandler())
    worker.on_setup_root_logger(logger, logging.WARNING)
    assert logger.level == logging.WARNING
    assert not logger.isEnabledFor(logging.DEBUG)
