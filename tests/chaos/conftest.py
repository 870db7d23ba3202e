"""Fixtures for the chaos suite: real yujing processes against real Kafka."""

from stacks import make_stack_env, stack_factory

__all__ = ["make_stack_env", "stack_factory"]
