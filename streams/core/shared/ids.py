"""Deterministic ids, so that at-least-once delivery never mints a second identity.

Used at every hop: a signal's id comes from its detector and source event, an
alert's from its rule and signals, an order's from its alert, a notification's
from its order, channel and purpose. Replaying the same input gives the same ids.
"""

from __future__ import annotations

import hashlib


def stable_id(kind: str, *parts: object) -> str:
    """``kind-`` followed by 24 hex chars of SHA-256 over the parts.

    >>> stable_id("order", "alert-1")
    'order-1f2528d39f3acf68c6c96f0f'
    >>> stable_id("order", "alert-1") == stable_id("order", "alert-1")
    True
    """
    h = hashlib.sha256()
    for p in parts:
        b = str(p).encode()
        h.update(len(b).to_bytes(4, "big"))
        h.update(b)
    return f"{kind}-{h.hexdigest()[:24]}"
