"""The aggregator contract: one pure aggregator per rule kind, one shared protocol.

(signal → scoped signal → window → **rule result** → compound / systemic alert.)
A compound or systemic rule is an :class:`Aggregator` bound to its catalogue
entry. The engine (:mod:`streams.core.alerts.scopes`) routes each piece of
evidence to the windows of the rules that :meth:`~Aggregator.listens` to its
scope and :meth:`~Aggregator.accepts` it, and asks :meth:`~Aggregator.result`
each time a window changes. The contract, which
``tests/streams/core/alerts/test_aggregator_contract.py`` checks for every
kind over the same properties:

- ``initialize() -> state`` and ``add(state, evidence) -> state`` are pure:
  ``add`` returns a new state and never changes the one it was given;
- the state is the window's evidence keyed by signal id (every kind needs the
  signals themselves for the alert's portrait), so ``add`` is independent of
  arrival order and adding the same signal twice (at-least-once delivery)
  changes nothing;
- ``result(state, context)`` depends only on its arguments and is the same for
  a state that went through the changelog's JSON and back;
- a result is never below the rule's threshold: ``None`` when the rule does not
  fire, else an :class:`Outcome` whose ``score`` reaches its ``threshold``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol

from streams.core.alerts.evidence import Evidence, Signals, with_signal
from streams.core.alerts.rules import Member, Severity, SystemicRule

RuleKind = Literal["compound", "trend", "regional", "industry", "comprehensive"]
#: Scope kinds, as the prefix of a scope key (``town:wuchang`` → ``town``).
ScopeKindName = Literal["town", "industry", "district", "place"]


@dataclass(frozen=True)
class Context:
    """What a rule may know about a window besides its evidence."""

    #: The scope key (``town:wuchang``), the sub-key (place, module or ``""``).
    scope: str
    sub: str
    start: int
    end: int
    #: The rule's measure (:meth:`Aggregator.measure`) of the windows before this one,
    #: oldest first (rules with a history).
    history: tuple[int, ...] = ()


@dataclass(frozen=True)
class Weighted:
    """One signal behind an outcome, and what it added to the rule's score or index."""

    evidence: Evidence
    weight: float


@dataclass(frozen=True)
class Outcome:
    """A rule that fired on a window: the level, the measure against the threshold, why."""

    level: Severity
    score: float
    threshold: float
    #: Distinct modules, communities, sites (or the module, for a trend) → signal count.
    members: dict[str, int]
    #: The signals behind it, ordered by signal id.
    contributions: tuple[Weighted, ...]
    baseline: float | None = None
    why: str = ""


class Aggregator(Protocol):
    """What the engine, the portraits and inhibition need of a compound or systemic rule."""

    rule_id: str
    kind: RuleKind
    name: str
    emergency: bool
    window_s: int
    #: How many past windows' counts the rule needs (0: none).
    history: int

    def listens(self, scope_kind: str) -> bool:
        """Whether the rule keeps windows in scopes of this kind."""
        ...

    def accepts(self, ev: Evidence) -> bool:
        """Whether this evidence counts for the rule at all."""
        ...

    def sub(self, ev: Evidence) -> str:
        """Which of the scope's windows it goes to: place, module, or ``""`` (the scope)."""
        ...

    def measure(self, state: Signals) -> int:
        """What the rule counts in a window, as its history remembers it."""
        ...

    def initialize(self) -> Signals: ...

    def add(self, state: Signals, ev: Evidence) -> Signals: ...

    def result(self, state: Signals, ctx: Context) -> Outcome | None: ...


class EvidenceSet:
    """The shared state handling: a set of evidence keyed by signal id.

    Kinds inherit it and add :meth:`accepts`-filtering; they differ in what
    they listen to, how they split a scope and how they judge a window.
    """

    history = 0

    def accepts(self, ev: Evidence) -> bool:
        return True

    def measure(self, state: Signals) -> int:
        return len(state)

    def initialize(self) -> Signals:
        return {}

    def add(self, state: Signals, ev: Evidence) -> Signals:
        """``state`` plus ``ev`` if the rule accepts it; ``state`` itself otherwise."""
        return with_signal(state, ev) if self.accepts(ev) else state


def ordered(state: Signals) -> list[Evidence]:
    """A state's evidence by signal id: the order every judgement reads it in."""
    return sorted(state.values(), key=lambda ev: ev.signal_id)


def matches(member: Member, module: str, risk_point: str) -> bool:
    """Whether a compound rule's member (a module or one risk point) names this signal."""
    return bool(
        (member.module and member.module == module)
        or (member.risk_point and member.risk_point == risk_point)
    )


@dataclass(frozen=True)
class Against:
    """A window's measure judged against the mean of its scope's past windows."""

    unusual: bool
    mean: float | None = None
    tail: float | None = None

    def why(self, rule: SystemicRule) -> str:
        if self.mean is None or self.tail is None:
            return ""
        return (
            f", against a mean of {self.mean:.2f} over its past windows "
            f"(tail probability {self.tail:.2g} <= {rule.p_value:g})"
        )


def predictive_sf(k: int, total: float, windows: int) -> float:
    """P(X >= k) for the next window's count X, given ``total`` counted over ``windows``
    past windows: Poisson with an unknown rate (Jeffreys' prior, so the predictive law is
    negative binomial, r = total + 1/2, p = windows / (windows + 1)). Few past windows
    give a wide law, so a young scope is not judged as if its mean were known.

    >>> round(predictive_sf(6, 2, 2), 4), round(predictive_sf(6, 12, 12), 4)
    (0.0122, 0.0014)
    """
    if k <= 0:
        return 1.0
    r, q = total + 0.5, 1.0 / (windows + 1)  # q = 1 - p
    log_p, log_q = math.log1p(-q), math.log(q)
    terms = [
        math.lgamma(x + r) - math.lgamma(r) - math.lgamma(x + 1) + r * log_p + x * log_q
        for x in range(k)
    ]
    top = max(terms)
    log_cdf = top + math.log(math.fsum(math.exp(t - top) for t in terms))
    return min(1.0, max(0.0, -math.expm1(log_cdf)))


def against_history(rule: SystemicRule, measure: int, ctx: Context) -> Against:
    """Whether ``measure`` is improbable (tail ≤ ``p_value``) given the scope's past
    windows, for a rule with ``against_history``; always unusual for one without.
    The past is what the scope has (up to ``history`` windows), from its first event
    on; the tail is :func:`predictive_sf`'s, which allows for how few windows that is
    (with a plug-in Poisson mean, a scope's second and third windows fired on chance).
    A scope with no past window at all (its first signal is in this window) has nothing
    to judge against: the rule's own floor (``min_places``, the bands) decides alone, as
    it would without history.

    >>> r = SystemicRule(id="r", name="r", kind="regional", window_s=3600, against_history=True)
    >>> ctx = Context("town:t", "", 0, 3600, history=(1, 0, 1, 1, 0, 1))
    >>> against_history(r, 3, ctx).unusual, against_history(r, 8, ctx).unusual
    (False, True)
    >>> against_history(r, 3, Context("town:t", "", 0, 3600, history=())).unusual
    True
    """
    if not rule.against_history:
        return Against(True)
    hist = ctx.history[-rule.history :]
    if not hist:
        return Against(True)
    mean = sum(hist) / len(hist)
    tail = predictive_sf(measure, sum(hist), len(hist))
    return Against(tail <= rule.p_value, mean, tail)
