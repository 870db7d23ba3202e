"""Single-risk alert rule: every signal becomes one alert with a readable portrait.

(reading → signal → **alert** → order → notification.) Compound and systemic
rules join many signals; this rule is the one-signal case they build on.

An alert's id derives from its signal's, so one signal id must never raise two
different alerts: :func:`first_content` remembers, per place, the digest of the
alert each recent signal raised; the same signal again is a repeat (published
already), the same id with other content a conflict (the first alert stands).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from schemas import Alert, AlertKind, RiskSignal
from schemas.codec import encode
from streams.core.shared.catalogue import Catalogue
from streams.core.shared.ids import stable_id

RULE_ID = "single"
#: How many of a place's latest signals are remembered with their alert's digest.
KEEP_RAISED = 256


def alert_id_for(signal_id: str) -> str:
    """The id of a signal's single-risk alert (compound and systemic alerts link to it)."""
    return stable_id("alert", RULE_ID, signal_id)


class SingleRiskRule:
    """Turns one risk signal into one single-risk alert, labelled for routing."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        self._module_names = {m.id: m.name for m in catalogue.modules}

    def on_signal(self, signal: RiskSignal) -> Alert:
        rp = self._catalogue.point(signal.risk_point)
        labels = {
            **rp.labels,
            "module": signal.module,
            "risk_point": signal.risk_point,
            "level": signal.severity,
            "emergency": str(signal.emergency).lower(),
            "place": signal.place_id,
        }
        indicators = ", ".join(f"{k}={v:.4g}" for k, v in signal.indicators.items())
        summary = (
            f"[{signal.severity.upper()}] {rp.name} at {signal.place_id}: "
            f"score {signal.score:.3f} >= {signal.threshold:g} ({indicators}); "
            f"detector {signal.detector_id} v{signal.detector_version}, "
            f"source {signal.source_key}, events {', '.join(signal.source_event_ids)}"
        )
        return Alert(
            alert_id=alert_id_for(signal.signal_id),
            version=1,
            kind=AlertKind.SINGLE,
            rule_id=RULE_ID,
            level=signal.severity,
            emergency=signal.emergency,
            auto_disposable=rp.auto_dispose,
            scope=signal.place_id,
            module=signal.module,
            risk_points=[signal.risk_point],
            labels=labels,
            signal_ids=[signal.signal_id],
            source_keys=[signal.source_key],
            summary=summary if len(summary) <= 2000 else summary[:1999] + "…",
            event_time=signal.event_time,
        )


def first_content(
    raised: dict[str, str] | None, alert: Alert
) -> tuple[dict[str, str] | None, Literal["new", "repeat", "conflict"]]:
    """What ``alert`` is to its place's remembered alerts ``raised`` (signal id → digest of
    the alert it raised, oldest first), and the place's new memory (``None``: unchanged).

    >>> from datetime import UTC, datetime
    >>> a = Alert(alert_id="a1", kind=AlertKind.SINGLE, rule_id=RULE_ID, level="high",
    ...           emergency=True, scope="p1", module="gas_safety", risk_points=["gas_leak"],
    ...           signal_ids=["s1"], summary="gas", event_time=datetime(2026, 1, 1, tzinfo=UTC))
    >>> memory, verdict = first_content(None, a); verdict
    'new'
    >>> first_content(memory, a)[1], first_content(memory, a.model_copy(update={"level": "low"}))[1]
    ('repeat', 'conflict')
    """
    signal_id = alert.signal_ids[0]
    digest = hashlib.sha256(encode(alert)).hexdigest()[:16]
    before = (raised or {}).get(signal_id)
    if before is not None:
        return None, "repeat" if before == digest else "conflict"
    memory = {**(raised or {}), signal_id: digest}
    if len(memory) > KEEP_RAISED:
        memory = dict(list(memory.items())[-KEEP_RAISED:])
    return memory, "new"
