"""Who may do what on the secure local broker: the ACL plan, a pure function of the names.

Where this sits: development infrastructure, not in the event flow. ``yujing broker
start --secure`` (:mod:`~streams.dev.broker.secure`) makes the broker's ACLs match
:func:`acl_plan` on every start, as ``admin``; this module only computes the plan, from
the topic registry (:data:`schemas.registry.TOPICS`) and the pipeline's naming
(``YUJING_TOPIC_PREFIX``, ``YUJING_APP_ID``: :class:`Naming`), so it is tested without
a broker. Everything not granted is denied (``allow.everyone.if.no.acl.found=false``);
``admin`` and the broker itself are super users and need no ACL.

=============  ==========================================================================
user           may
=============  ==========================================================================
worker         read the inputs (``TopicSpec.external``); read, write and create every
               other registry topic (its outputs, and the internal topics it consumes
               again); create and describe the inputs too (it provisions every topic);
               everything on topics prefixed ``<app id>-`` (Faust's changelogs
               ``<app id>-<table>-changelog``, its assignor topic
               ``<app id>-__assignor-__leader``); its consumer groups (prefixed
               ``<app id>``)
tools          write the inputs (simulate, replay, the district day); read and describe
               every registry topic (tail, report) and create them (the writing tools
               provision them as the worker does), from partitions it assigns itself
               or from consumer groups prefixed ``tools``; describe the worker's groups
               (their lag, for the reports). Not delete, not alter, not write an output
downstream     read the alerts, orders, order status and SLA breaches, with consumer
               groups prefixed ``downstream``; nothing else
=============  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from schemas.registry import ALERTS, DISPATCH_ORDERS, ORDER_STATUS, SLA_BREACHES, TOPICS, TopicSpec

__all__ = [
    "DOWNSTREAM_TOPICS",
    "USERS",
    "Grant",
    "Naming",
    "acl_plan",
]

#: The users of a secure broker, each with a credentials file; ``admin`` is a super user.
USERS = ("admin", "worker", "tools", "downstream")
#: The registry topics a downstream system (field apps, case systems) may read.
DOWNSTREAM_TOPICS = (ALERTS.name, DISPATCH_ORDERS.name, ORDER_STATUS.name, SLA_BREACHES.name)

Resource = Literal["TOPIC", "GROUP"]
Pattern = Literal["LITERAL", "PREFIXED"]
Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS"]

#: What each kind of access takes, in Kafka's operations.
_CONSUME: tuple[Operation, ...] = ("READ", "DESCRIBE")
_PROVISION: tuple[Operation, ...] = ("CREATE", "DESCRIBE", "DESCRIBE_CONFIGS")


@dataclass(frozen=True, order=True)
class Grant:
    """One ACL binding: ``User:<user>`` may ``operation`` on ``resource`` ``name``
    (the name itself, or every name starting with it), from any host."""

    user: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation

    @property
    def principal(self) -> str:
        return f"User:{self.user}"


@dataclass(frozen=True)
class Naming:
    """The pipeline's names on the broker: registry topics under ``topic_prefix``, and
    Faust's app id ``topic_prefix + app_id`` (its group, its changelogs' prefix)."""

    topic_prefix: str = ""
    app_id: str = "yujing"

    @property
    def faust_id(self) -> str:
        return self.topic_prefix + self.app_id

    @classmethod
    def from_env(cls) -> Naming:
        """``YUJING_TOPIC_PREFIX`` and ``YUJING_APP_ID`` as the worker reads them; a bad
        value is a :class:`~streams.core.shared.config.ConfigError`."""
        from streams.runtime.settings import Settings

        settings = Settings.from_env()
        return cls(topic_prefix=settings.topic_prefix, app_id=settings.app_id)


def _grants(
    user: str, resource: Resource, names: Iterable[str], pattern: Pattern, ops: Iterable[Operation]
) -> list[Grant]:
    ops = tuple(ops)
    return [Grant(user, resource, name, pattern, op) for name in names for op in ops]


def acl_plan(naming: Naming, topics: Iterable[TopicSpec] | None = None) -> list[Grant]:
    """Every ACL of the secure broker's users (see the module's table), sorted, no repeats.

    ``topics`` defaults to the whole registry.

    >>> plan = acl_plan(Naming("qa."))
    >>> sorted({g.operation for g in plan if g.user == "downstream"})
    ['DESCRIBE', 'READ']
    >>> [g.name for g in plan if g.user == "worker" and g.resource == "GROUP"][:1]
    ['qa.yujing']
    """
    specs = list(TOPICS.values() if topics is None else topics)
    prefix = naming.topic_prefix
    inputs = [prefix + s.name for s in specs if s.external]
    others = [prefix + s.name for s in specs if not s.external]
    everything = inputs + others
    known = {s.name for s in specs}
    downstream = [prefix + name for name in DOWNSTREAM_TOPICS if name in known]
    plan = [
        # worker: reads the inputs, writes (and reads back) the rest, provisions all
        *_grants("worker", "TOPIC", everything, "LITERAL", (*_CONSUME, *_PROVISION)),
        *_grants("worker", "TOPIC", others, "LITERAL", ("WRITE",)),
        *_grants(
            "worker",
            "TOPIC",
            [naming.faust_id + "-"],
            "PREFIXED",
            ("READ", "WRITE", *_PROVISION),
        ),
        *_grants("worker", "GROUP", [naming.faust_id], "PREFIXED", _CONSUME),
        # tools: write the inputs, read everything, provision; their own groups
        *_grants("tools", "TOPIC", everything, "LITERAL", (*_CONSUME, *_PROVISION)),
        *_grants("tools", "TOPIC", inputs, "LITERAL", ("WRITE",)),
        *_grants("tools", "GROUP", ["tools"], "PREFIXED", _CONSUME),
        *_grants("tools", "GROUP", [naming.faust_id], "PREFIXED", ("DESCRIBE",)),
        # downstream: reads the results meant for it
        *_grants("downstream", "TOPIC", downstream, "LITERAL", _CONSUME),
        *_grants("downstream", "GROUP", ["downstream"], "PREFIXED", _CONSUME),
    ]
    return sorted(set(plan))
