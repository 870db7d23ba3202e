"""Applying the ACL plan to a secure local broker, as ``admin`` (kafka-python's admin client).

Where this sits: development infrastructure, not in the event flow. ``yujing broker
start --secure`` (:mod:`~streams.dev.broker.secure`) calls :func:`sync_acls` once the
broker answers: the ALLOW ACLs of the plan's users (``worker``, ``tools``,
``downstream``) become exactly :func:`~streams.dev.broker.acls.acl_plan`'s, so a topic
renamed in the registry, or another ``YUJING_TOPIC_PREFIX``, takes its grants along at
the next start and leaves none behind. ACLs of any other principal (ones an operator
added by hand for another user, DENY rules) are left alone.

Any failure (the broker refusing ``admin``, a binding it will not take) is one
:class:`~streams.dev.broker.config.BrokerError` line; the password never appears in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from streams.dev.broker.acls import USERS, Grant, Operation, Pattern, Resource
from streams.dev.broker.config import BrokerError
from streams.dev.broker.probe import Login

__all__ = ["current_grants", "sync_acls"]

_PLAN_USERS = frozenset(f"User:{u}" for u in USERS if u != "admin")


def _acl(grant: Grant) -> Any:
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourceType,
    )

    return ACL(
        principal=grant.principal,
        host="*",
        operation=ACLOperation[grant.operation],
        permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(
            ResourceType[grant.resource], grant.name, ACLResourcePatternType[grant.pattern]
        ),
    )


def current_grants(admin: Any) -> set[Grant]:
    """The ALLOW-from-any-host ACLs of the plan's users on the broker, as grants."""
    from kafka.admin import (
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePatternFilter,
        ResourceType,
    )

    everything = ACLFilter(
        principal=None,
        host=None,
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )
    acls, _ = admin.describe_acls(everything)
    found: set[Grant] = set()
    for acl in acls:
        pattern = acl.resource_pattern
        if (
            acl.principal in _PLAN_USERS
            and acl.host == "*"
            and acl.permission_type == ACLPermissionType.ALLOW
        ):
            found.add(
                Grant(
                    user=acl.principal.removeprefix("User:"),
                    resource=cast(Resource, pattern.resource_type.name),
                    name=pattern.resource_name,
                    pattern=cast(Pattern, pattern.pattern_type.name),
                    operation=cast(Operation, acl.operation.name),
                )
            )
    return found


def _create(admin: Any, grants: Iterable[Grant]) -> None:
    grants = sorted(grants)
    if not grants:
        return
    result = admin.create_acls([_acl(g) for g in grants])
    if result["failed"]:  # error classes (kafka.errors.for_code)
        errors = sorted({error.__name__ for error in result["failed"]})
        raise BrokerError(
            f"the secure broker refused {len(result['failed'])} ACL(s): {', '.join(errors)}"
        )


def _delete(admin: Any, grants: Iterable[Grant]) -> None:
    grants = sorted(grants)
    if not grants:
        return
    from kafka.errors import NoError

    for _, _, error in admin.delete_acls([_acl(g) for g in grants]):
        if error is not NoError:
            raise BrokerError(f"the secure broker would not delete an old ACL: {error.__name__}")


def sync_acls(bootstrap: str, login: Login, plan: Iterable[Grant]) -> tuple[int, int]:
    """Make the plan's users' ACLs on the broker at ``bootstrap`` exactly ``plan``.

    Returns how many were (created, deleted).
    """
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    wanted = set(plan)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="yujing-broker-acls",
            request_timeout_ms=15000,
            **login.kafka_python_options(),
        )
    except KafkaError as exc:
        raise BrokerError(
            f"could not reach the secure broker at {bootstrap} as {login.username} to set its "
            f"ACLs: {type(exc).__name__}"
        ) from None
    try:
        found = current_grants(admin)
        _delete(admin, found - wanted)
        _create(admin, wanted - found)
        return len(wanted - found), len(found - wanted)
    except KafkaError as exc:
        raise BrokerError(f"setting the secure broker's ACLs failed: {exc}") from None
    finally:
        admin.close()
