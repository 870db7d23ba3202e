"""Tests of the secure broker's ACL plan (streams.dev.broker.acls), without a broker.

The plan is a pure function of the topic registry and the pipeline's naming: who may
read, write, create and consume what. What a real broker makes of it is checked in
``test_secure.py``.
"""

from __future__ import annotations

import pytest

from schemas.registry import NOTIFICATIONS, READINGS, TOPICS, TopicSpec
from streams.dev.broker.acls import DOWNSTREAM_TOPICS, USERS, Grant, Naming, acl_plan

INPUTS = sorted(s.name for s in TOPICS.values() if s.external)
OUTPUTS = sorted(s.name for s in TOPICS.values() if not s.external)


def _can(plan: list[Grant], user: str, op: str, resource: str = "TOPIC") -> set[str]:
    """The literal names ``user`` may ``op`` on."""
    return {
        g.name
        for g in plan
        if g.user == user
        and g.operation == op
        and g.resource == resource
        and g.pattern == "LITERAL"
    }


def _prefixed(plan: list[Grant], user: str, resource: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for g in plan:
        if g.user == user and g.resource == resource and g.pattern == "PREFIXED":
            found.setdefault(g.name, set()).add(g.operation)
    return found


def test_the_registry_has_inputs_and_outputs() -> None:
    assert READINGS.name in INPUTS and NOTIFICATIONS.name in OUTPUTS
    assert set(DOWNSTREAM_TOPICS) <= set(OUTPUTS)


def test_admin_and_the_broker_need_no_acl_and_nobody_may_delete_or_alter() -> None:
    plan = acl_plan(Naming())
    assert {g.user for g in plan} == {"worker", "tools", "downstream"}
    assert set(USERS) == {"admin", "worker", "tools", "downstream"}
    assert not [
        g
        for g in plan
        if g.operation not in {"READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS"}
    ]
    assert not [g for g in plan if g.resource not in {"TOPIC", "GROUP"}]


def test_the_plan_is_sorted_without_repeats() -> None:
    plan = acl_plan(Naming())
    assert plan == sorted(set(plan))


def test_the_worker_reads_inputs_writes_outputs_and_provisions_everything() -> None:
    plan = acl_plan(Naming())
    assert _can(plan, "worker", "READ") == set(TOPICS)
    assert _can(plan, "worker", "WRITE") == set(OUTPUTS)  # never an input
    assert _can(plan, "worker", "CREATE") == set(TOPICS)
    assert _can(plan, "worker", "DESCRIBE") == set(TOPICS)
    # Faust's changelogs and assignor topic, and its consumer group
    assert _prefixed(plan, "worker", "TOPIC") == {
        "yujing-": {"READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS"}
    }
    assert _prefixed(plan, "worker", "GROUP") == {"yujing": {"READ", "DESCRIBE"}}


def test_tools_write_only_inputs_read_everything_and_use_their_own_groups() -> None:
    plan = acl_plan(Naming())
    assert _can(plan, "tools", "WRITE") == set(INPUTS)
    assert _can(plan, "tools", "READ") == set(TOPICS)
    assert _can(plan, "tools", "CREATE") == set(TOPICS)
    assert _prefixed(plan, "tools", "TOPIC") == {}
    # their own groups; the worker's only to see its lag
    assert _prefixed(plan, "tools", "GROUP") == {
        "tools": {"READ", "DESCRIBE"},
        "yujing": {"DESCRIBE"},
    }


def test_downstream_reads_alerts_orders_status_and_breaches_only() -> None:
    plan = acl_plan(Naming())
    mine = [g for g in plan if g.user == "downstream"]
    assert _can(mine, "downstream", "READ") == set(DOWNSTREAM_TOPICS)
    assert {g.operation for g in mine} == {"READ", "DESCRIBE"}
    assert NOTIFICATIONS.name not in {g.name for g in mine}
    assert _prefixed(mine, "downstream", "GROUP") == {"downstream": {"READ", "DESCRIBE"}}


@pytest.mark.parametrize(("prefix", "app_id"), [("qa0.", "yujing"), ("", "other"), ("t-", "x")])
def test_every_name_follows_the_prefix_and_the_app_id(prefix: str, app_id: str) -> None:
    naming = Naming(prefix, app_id)
    plan = acl_plan(naming)
    assert naming.faust_id == prefix + app_id
    literal_topics = {g.name for g in plan if g.resource == "TOPIC" and g.pattern == "LITERAL"}
    assert literal_topics == {prefix + name for name in TOPICS}
    assert _prefixed(plan, "worker", "TOPIC").keys() == {prefix + app_id + "-"}
    assert _prefixed(plan, "worker", "GROUP").keys() == {prefix + app_id}


def test_the_plan_takes_the_topics_it_is_given() -> None:
    specs: list[TopicSpec] = [READINGS, NOTIFICATIONS]
    plan = acl_plan(Naming(), specs)
    assert {g.name for g in plan if g.resource == "TOPIC" and g.pattern == "LITERAL"} == {
        READINGS.name,
        NOTIFICATIONS.name,
    }
    assert not [g for g in plan if g.user == "downstream" and g.resource == "TOPIC"]


def test_naming_comes_from_the_worker_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUJING_TOPIC_PREFIX", "qa1.")
    monkeypatch.setenv("YUJING_APP_ID", "city")
    assert Naming.from_env() == Naming("qa1.", "city")
