"""Retry policy: exponential backoff with a cap and a bounded number of attempts.

Used by the notification hop (order → **notification** → provider). Pure: it
only says how long to wait before attempt n; the caller sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt ``n`` (1-based; attempt 1 has none).

    >>> b = Backoff(base_s=0.2, factor=2.0, max_s=1.0, max_attempts=5)
    >>> [b.delay(n) for n in range(1, 6)]
    [0.0, 0.2, 0.4, 0.8, 1.0]
    """

    base_s: float = 0.2
    factor: float = 2.0
    max_s: float = 30.0
    max_attempts: int = 5

    def delay(self, attempt: int) -> float:
        if attempt <= 1:
            return 0.0
        delay = self.base_s
        for _ in range(attempt - 2):  # multiply up to the cap: no float overflow
            delay *= self.factor
            if delay >= self.max_s:
                return float(self.max_s)
        return float(min(self.max_s, delay))
