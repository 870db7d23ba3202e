"""Tests of probing the loopback (streams.dev.broker.probe) where no broker runs.

That a real broker answers is checked against real brokers in ``test_local.py``.
"""

from __future__ import annotations

import socket
import threading
import time

from streams.dev.broker import broker_answers, find_free_port
from streams.dev.broker.probe import _ephemeral_range, port_in_use


def test_a_free_port_is_free_and_a_listening_one_is_not() -> None:
    port = find_free_port()
    assert not port_in_use(port)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert port_in_use(port)
    assert not port_in_use(port)


def test_free_ports_come_from_below_the_ephemeral_range_and_never_twice() -> None:
    """A port from the kernel's ephemeral range can go to any outgoing connection
    between the pick and the child's bind; and a port picked, not yet bound, looks free."""
    low, high = _ephemeral_range()
    ports = [find_free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert not [p for p in ports if low <= p <= high]


def test_nothing_listening_does_not_answer() -> None:
    started = time.monotonic()
    assert broker_answers(f"127.0.0.1:{find_free_port()}", timeout=5) is False
    assert time.monotonic() - started < 5  # refused at once, no waiting out the timeout


def test_a_bad_address_does_not_answer() -> None:
    assert broker_answers("127.0.0.1:kafka") is False
    assert broker_answers("no-port-here") is False


def test_a_bare_tcp_listener_is_not_a_broker() -> None:
    # Something accepts connections on the port but speaks no Kafka (a broker still
    # starting, or another program): a connect alone must not count as answering.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    accepted.append(listener.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            assert broker_answers(f"127.0.0.1:{port}", timeout=1.5) is False
        finally:
            stop.set()
            thread.join(5)
            for conn in accepted:
                conn.close()
        assert accepted, "the probe never connected"
