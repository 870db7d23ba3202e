"""Evidence: one scoped signal as a compound or systemic window holds it.

(signal → scoped signal → **evidence in a window** → compound / systemic alert.)
When a scoped signal reaches :mod:`streams.core.alerts.scopes`, the engine turns
it into one :class:`Evidence`: what every rule kind may ask of a signal (its
module, risk point, severity, the community, site and industry it lies in) and
what a portrait shows of it (indicators, source events, source key, event time).
A window's aggregation state is a set of these, keyed by signal id
(:data:`Signals`): adding is order-independent and idempotent, so redelivery
and reordering within the lateness cannot change what a window says.

Stored as JSON in the ``scope-windows`` changelog table, under the short keys
the stored state has always used (``rp``, ``comm``, ``sev``, ...), so state
written before the store was typed still loads. Old entries may carry a
``w`` (the weight the old evaluation wrote back into the state as a side
effect): it is read and ignored, and gone from the next write, since weights
are now part of a rule's result, never of the state.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas import ScopedSignal
from streams.core.alerts.rules import LEVELS, Severity
from streams.core.alerts.windows import epoch


class Evidence(BaseModel):
    """One signal in one scope's window (frozen; JSON under short aliases)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    signal_id: str = Field(alias="id")
    risk_point: str = Field(alias="rp")
    module: str = Field(alias="mod")
    place_id: str = Field(alias="place")
    grid_cell: str | None = Field(alias="cell")
    community: str | None = Field(alias="comm")
    town: str | None = Field(alias="town")
    district: str | None = Field(alias="dist")
    site: str | None = Field(alias="site")
    industry: str | None = Field(alias="ind")
    severity: Severity = Field(alias="sev")
    emergency: bool = Field(alias="em")
    score: float = Field(alias="score")
    indicators: dict[str, float] = Field(alias="x")
    source_event_ids: list[str] = Field(alias="src")
    source_key: str = Field(alias="key")
    #: Event time, Unix seconds.
    t: float = Field(alias="t")
    #: Old stored state only: a weight the old evaluation wrote back into the state.
    #: Accepted on load, never used, never written again.
    legacy_weight: float | None = Field(default=None, alias="w", exclude=True, repr=False)

    @classmethod
    def of(cls, s: ScopedSignal) -> Evidence:
        """The evidence a scoped signal brings to its scope's windows."""
        sig = s.signal
        return cls(
            signal_id=sig.signal_id,
            risk_point=sig.risk_point,
            module=sig.module,
            place_id=sig.place_id,
            grid_cell=s.grid_cell,
            community=s.community,
            town=s.town,
            district=s.district,
            site=s.site,
            industry=s.industry,
            severity=sig.severity,
            emergency=sig.emergency,
            score=sig.score,
            indicators=dict(sig.indicators),
            source_event_ids=list(sig.source_event_ids),
            source_key=sig.source_key,
            t=epoch(sig.event_time),
        )

    @property
    def rank(self) -> int:
        """The severity's place in :data:`~streams.core.alerts.rules.LEVELS` (higher: worse)."""
        return LEVELS.index(self.severity)


#: A window's aggregation state: its evidence by signal id (never mutated in place).
Signals = Mapping[str, Evidence]

#: JSON (de)serialisation of a whole state, for the store and the contract tests.
SIGNALS_JSON: TypeAdapter[dict[str, Evidence]] = TypeAdapter(dict[str, Evidence])


def with_signal(state: Signals, ev: Evidence) -> Signals:
    """``state`` with ``ev`` in it: the same object when it already was (a redelivery)."""
    if ev.signal_id in state:
        return state
    return {**state, ev.signal_id: ev}
