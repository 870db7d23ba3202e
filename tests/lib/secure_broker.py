"""A ``yujing broker start --secure`` broker for one test module.

SASL_SSL with SCRAM users, a CA of its own and ACLs (``streams/dev/broker/secure.py``),
in a home of the test's, on free ports; stopped at the end. Skips the module where no
usable Java is installed, as the local broker's own tests do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.dev.broker import BrokerConfig, BrokerError, LocalBroker, check_java, find_free_port
from streams.dev.broker.acls import Naming


@contextlib.contextmanager
def secure_broker(home: Path, naming: Naming | None = None) -> Iterator[LocalBroker]:
    """A started secure broker whose ACLs grant ``naming``'s topics (default: no prefix,
    app id ``yujing``); each user's credentials in ``broker.secrets_dir``."""
    try:
        check_java()
    except BrokerError as exc:
        pytest.skip(f"no usable Java for the local broker: {exc}")
    local = LocalBroker(
        BrokerConfig(home=home, port=find_free_port(), controller_port=find_free_port())
    )
    try:
        local.start(timeout=120, secure=True, naming=naming or Naming())
        yield local
    finally:
        local.stop()
