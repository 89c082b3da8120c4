"""Checking plans against graphql-core: with `GATEWAY_VERIFY_PLANS=1` (the test suite turns it
on) every planned field is executed by graphql-core as well, and a difference fails the request
(`PlanMismatch`) and is recorded in `mismatches`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from graphql import GraphQLObjectType
from graphql.pyutils import Path

from gateway.schema.plan.info import FieldDetailsList

if TYPE_CHECKING:
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["PlanMismatch", "check", "enabled", "mismatches", "verifying"]

#: Whether plans are checked against graphql-core: GATEWAY_VERIFY_PLANS=1 when the module is
#: imported (read once: `os.environ` per request was 3 % of a `{ __typename }` request). Tests
#: set it here.
enabled = os.environ.get("GATEWAY_VERIFY_PLANS", "") == "1"

#: Differences found with verification on (the test suite fails on any).
mismatches: list[str] = []


class PlanMismatch(AssertionError):
    """With verification on, a planned answer differed from graphql-core's."""


def verifying() -> bool:
    """Whether plans are checked against graphql-core (GATEWAY_VERIFY_PLANS=1 at import)."""
    return enabled


def check(
    executor: StrawberryGraphQLCoreExecutionContext,
    parent_type: GraphQLObjectType,
    source_value: Any,
    path: Path | None,
    details: FieldDetailsList,
    planned: Any,
) -> None:
    """graphql-core's answer for the field `executor` planned must be the plan's answer."""
    key = details[0].node.alias.value if details[0].node.alias else details[0].node.name.value
    errors_before = len(executor.collected_errors.errors)
    expected = executor.execute_field(
        parent_type, source_value, details, Path(path, key, parent_type.name), None
    )
    problem = None
    if executor.is_awaitable(expected):
        close = getattr(expected, "close", None)
        if close is not None:
            close()
        problem = "graphql-core's answer is awaitable, the plan's is not"
    elif len(executor.collected_errors.errors) != errors_before:
        problem = "graphql-core reported an error the plan did not"
    elif expected != planned or _shape(expected) != _shape(planned):
        problem = f"graphql-core answered {expected!r}, the plan {planned!r}"
    if problem is not None:
        message = f"{parent_type.name}.{key}: {problem}"
        mismatches.append(message)
        raise PlanMismatch(message)


def _shape(value: Any) -> Any:
    """The value with its types: `1 == 1.0 == True` must not hide a difference."""
    if isinstance(value, dict):
        return ("dict", tuple((k, _shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(_shape(v) for v in value))
    return (type(value).__name__, value)
