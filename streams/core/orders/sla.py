"""SLA classes and their stage deadlines, from the closed-loop time limits.

(reading → signal → alert → **order** → notification.) Emergency: signed and
assigned within 5 minutes, on the scene within 20 minutes, resolved with
feedback within 24 hours. Non-emergency: signed and assigned within 24 hours,
resolved with feedback within 7 days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType

from schemas import SlaClass

STAGE_LIMITS: MappingProxyType[SlaClass, MappingProxyType[str, timedelta]] = MappingProxyType(
    {
        SlaClass.EMERGENCY: MappingProxyType(
            {
                "signed": timedelta(minutes=5),
                "arrived": timedelta(minutes=20),
                "resolved": timedelta(hours=24),
            }
        ),
        SlaClass.NON_EMERGENCY: MappingProxyType(
            {"signed": timedelta(hours=24), "resolved": timedelta(days=7)}
        ),
    }
)


def deadlines(sla_class: SlaClass, start: datetime) -> dict[str, datetime]:
    """Stage → deadline for an order created at ``start``.

    >>> from datetime import timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> {k: str(v - t0) for k, v in deadlines(SlaClass.EMERGENCY, t0).items()}
    {'signed': '0:05:00', 'arrived': '0:20:00', 'resolved': '1 day, 0:00:00'}
    """
    return {stage: start + limit for stage, limit in STAGE_LIMITS[sla_class].items()}
