"""Publishing and dead letters (runtime/publish.py), broker-free.

What an operator re-driving a dead letter relies on: the original bytes are kept
(the first ``YUJING_MAX_MESSAGE_BYTES`` of them, ``payload_size`` telling the whole
size), with the key, the source position and a bounded detail; the id is stable, so
re-processing the same input after a restart does not make a second dead letter.
What every downstream consumer relies on: outputs go to the topic the registry binds
to their schema, keyed by its key field, and are counted only once acknowledged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from recording_topic import recording_topics

from schemas import Alert, AlertKind, DeadLetter, DeadLetterReason
from schemas.codec import decode, encode
from schemas.registry import ALERTS, DEAD_LETTERS, spec_for
from streams.runtime.agent import Source
from streams.runtime.metrics import Metrics
from streams.runtime.publish import MAX_KEY, Pending, Publisher, dead_letter

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SRC = Source("qa.yujing.readings.v1", 1, 42)


def _dl(value: object, key: object = b"gas-1", max_payload: int = 1024, **kw: object) -> DeadLetter:
    args: dict = {"reason": DeadLetterReason.SCHEMA, "detail": "bad", "stage": "detect"} | kw
    return dead_letter(SRC, key, value, now=T0, max_payload=max_payload, **args)


@given(raw=st.binary(max_size=4096), max_payload=st.integers(min_value=1, max_value=4096))
def test_a_dead_letter_keeps_the_first_max_payload_bytes_and_the_whole_size(
    raw: bytes, max_payload: int
) -> None:
    dl = _dl(raw, max_payload=max_payload)
    kept = base64.b64decode(dl.payload_b64)
    assert kept == raw[:max_payload]  # the original, byte for byte, up to the bound
    assert len(kept) <= max_payload
    assert dl.payload_size == len(raw)
    assert (dl.payload_size == len(kept)) == (len(raw) <= max_payload)  # complete or not
    assert dl.payload_sha256 == hashlib.sha256(raw).hexdigest()  # of the whole original


@given(key=st.one_of(st.none(), st.binary(max_size=3000)))
def test_a_dead_letter_keeps_the_original_key_up_to_its_bound(key: bytes | None) -> None:
    dl = _dl(b"{}", key=key)
    kept = base64.b64decode(dl.key_b64) if dl.key_b64 is not None else None
    assert kept == (None if key is None else key[:MAX_KEY])
    assert dl.key_size == (None if key is None else len(key))


def test_a_dead_letter_names_where_it_was_read_and_is_published_keyed_by_source_topic() -> None:
    dl = _dl(b'{"sensor_id": 1}', detail="x" * 10_000)
    assert (dl.source_topic, dl.partition, dl.offset, dl.stage) == (SRC.topic, 1, 42, "detect")
    assert dl.reason is DeadLetterReason.SCHEMA and dl.event_time == T0
    assert len(dl.detail) == 2000  # bounded, yet the schema's limit: it always validates
    assert spec_for(dl) is DEAD_LETTERS and DEAD_LETTERS.key_of(dl) == SRC.topic.encode()
    assert decode(DeadLetter, encode(dl), max_bytes=10**6) == dl


def test_a_dead_letter_of_the_largest_allowed_input_fits_one_produce_request() -> None:
    """At the largest YUJING_MAX_MESSAGE_BYTES the settings accept, the dead letter of a
    too-large input (base64 of its kept bytes, a long detail, a long topic) still fits
    the producer's 1 MiB request, so it is published rather than crash-looping the worker."""
    from streams.runtime.settings import Settings

    largest = Settings.model_fields["max_message_bytes"].metadata
    bound = next(m.le for m in largest if getattr(m, "le", None) is not None)
    dl = _dl(b"x" * (bound * 2), max_payload=bound, key=b"k" * 10**6, detail="d" * 5000)
    assert len(encode(dl)) + len(DEAD_LETTERS.key_of(dl)) < 1024 * 1024 - 1024


def test_a_null_value_is_dead_lettered_with_an_empty_payload() -> None:
    dl = _dl(None)
    assert (dl.payload_b64, dl.payload_size) == ("", 0)


def test_the_dead_letter_id_is_stable_per_input_and_stage() -> None:
    # re-read after a restart: the same id, so consumers can tell it is the same letter
    assert _dl(b"a").dead_letter_id == _dl(b"a", detail="other words").dead_letter_id
    assert _dl(b"a").dead_letter_id != _dl(b"a", stage="detect_records").dead_letter_id
    moved = dead_letter(
        Source(SRC.topic, 1, 43), b"k", b"a", DeadLetterReason.SCHEMA, "", "detect", T0, 10
    )
    assert moved.dead_letter_id != _dl(b"a").dead_letter_id


def _alert(n: int) -> Alert:
    return Alert(
        event_time=T0,
        alert_id=f"alert-{n}",
        kind=AlertKind.SINGLE,
        rule_id="single",
        level="critical",
        emergency=True,
        scope="restaurant-7",
        module="gas_safety",
        risk_points=["restaurant_gas_leak"],
        signal_ids=[f"sig-{n}"],
        summary="gas at restaurant-7",
    )


def test_outputs_go_to_their_registry_topic_keyed_and_counted_once_acknowledged() -> None:
    registry = CollectorRegistry()
    topics = recording_topics(auto_ack=False)
    publisher = Publisher(topics, Metrics(registry))
    alerts = [_alert(1), _alert(2)]

    def out(name: str) -> float | None:
        return registry.get_sample_value("yujing_events_out_total", {"topic": name})

    async def run() -> None:
        pending = Pending()
        await publisher.send(alerts, pending)
        assert len(pending.futures) == 2
        assert out(ALERTS.name) is None  # sent, not yet on the broker: not counted
        delivering = asyncio.ensure_future(publisher.deliver(pending, "raise_alerts"))
        await asyncio.sleep(0)
        assert not delivering.done()  # waits for the acknowledgements
        topics[ALERTS.name].ack()
        await asyncio.sleep(0)
        assert out(ALERTS.name) == 2  # counted as acknowledged, whoever awaits them
        await delivering
        assert pending.futures == []

    asyncio.run(run())
    sent = topics[ALERTS.name].sent
    assert [(s.key, decode(Alert, s.value)) for s in sent] == [
        (b"alert-1", alerts[0]),
        (b"alert-2", alerts[1]),
    ]
    assert out(ALERTS.name) == 2
    labels = {"kind": "single", "level": "critical"}
    assert registry.get_sample_value("yujing_alerts_total", labels) == 2
    assert all(not t.sent for name, t in topics.items() if name != ALERTS.name)
