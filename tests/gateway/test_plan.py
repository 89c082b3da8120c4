"""Planned fields (gateway.schema.plan) answer exactly as graphql-core does.

The whole test suite runs with GATEWAY_VERIFY_PLANS=1 (tests/conftest.py): every planned field
of every in-process gateway is executed by graphql-core too. These tests pin down the cases
the plan must hand back to graphql-core, on a small schema executed both ways.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
import weakref
from collections.abc import Awaitable
from typing import Any

import pytest
import strawberry

from gateway.schema.plan import PlanInfo, PlannedExecutor, compiler, verify

CALLS: list[str] = []


@strawberry.type
class Price:
    amount: int
    currency: str


@strawberry.type
class Item:
    name: str
    required: strawberry.Private[str | None]
    flaky: strawberry.Private[bool] = False

    @strawberry.field
    def upper(self) -> str:
        CALLS.append(self.name)
        return self.name.upper()

    @strawberry.field
    def must(self) -> str:
        return self.required  # type: ignore[return-value]  # None for one item: an error

    @strawberry.field
    def boom(self) -> str | None:
        if self.flaky:
            raise ValueError(f"{self.name} broke")
        return "fine"

    @strawberry.field
    def info_kind(self, info: strawberry.Info) -> str:
        return type(info).__name__

    @strawberry.field
    def field_name(self, info: strawberry.Info) -> str:
        return info.field_name  # more than the context: the plan hands it to graphql-core

    @strawberry.field
    def price(self) -> Price:
        return Price(amount=len(self.name), currency="USD")

    @strawberry.field(graphql_type=Price | None)
    def later(self) -> Price | Awaitable[Price | None] | None:
        if self.flaky:
            return _later(self.name)
        return Price(amount=0, currency="EUR")


async def _later(name: str) -> Price:
    await asyncio.sleep(0)
    return Price(amount=len(name) * 10, currency="IDR")


ITEMS = [
    Item(name="a", required="x"),
    Item(name="bb", required=None, flaky=True),
    Item(name="ccc", required="z"),
]


@strawberry.type
class Query:
    @strawberry.field
    async def items(self) -> list[Item]:
        return ITEMS

    @strawberry.field
    def first(self) -> Item:
        return ITEMS[0]


PLANNED = strawberry.Schema(query=Query, execution_context_class=PlannedExecutor)
PLAIN = strawberry.Schema(query=Query)


@pytest.fixture
def verify_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "enabled", False)


def both(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The planned answer, asserted equal to graphql-core's (data, error messages and paths)."""

    async def run(schema: strawberry.Schema) -> dict[str, Any]:
        result = await schema.execute(query, variable_values=variables)
        errors = [(e.message, e.path) for e in result.errors or []]
        return {"data": result.data, "errors": sorted(errors, key=str)}

    planned, plain = asyncio.run(run(PLANNED)), asyncio.run(run(PLAIN))
    assert planned == plain
    assert repr(planned["data"]) == repr(plain["data"])  # key order and types too
    return planned


def test_plain_fields_are_planned(verify_off: None) -> None:
    # The resolver got the plan's info: graphql-core and Strawberry's wrappers were skipped.
    result = asyncio.run(PLANNED.execute("{ items { name infoKind price { amount } } }"))
    assert result.errors is None
    assert result.data == {
        "items": [
            {"name": "a", "infoKind": "PlanInfo", "price": {"amount": 1}},
            {"name": "bb", "infoKind": "PlanInfo", "price": {"amount": 2}},
            {"name": "ccc", "infoKind": "PlanInfo", "price": {"amount": 3}},
        ]
    }


def test_verification_catches_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    # infoKind differs by construction (PlanInfo vs Strawberry's Info): verification must say so.
    monkeypatch.setattr(verify, "enabled", True)
    before = len(verify.mismatches)
    result = asyncio.run(PLANNED.execute("{ first { infoKind } }"))
    found = verify.mismatches[before:]
    del verify.mismatches[before:]  # expected here: not a failure of this test
    assert found
    assert "Item.infoKind" in found[0]
    assert result.errors
    assert "Item.infoKind" in result.errors[0].message


def test_same_answers_as_graphql_core(verify_off: None) -> None:
    out = both("{ items { name upper __typename price { amount currency __typename } } }")
    assert out["errors"] == []
    aliased = both(
        "{ first { x: name y: name, upper ...F } } fragment F on Item { price { amount } }"
    )
    assert aliased["data"] == {"first": {"x": "a", "y": "a", "upper": "A", "price": {"amount": 1}}}


def test_non_null_violation_is_graphql_cores_error(verify_off: None) -> None:
    out = both("{ items { name must } }")
    # The null propagates to the list item's parent: graphql-core's rule, the plan stood aside.
    assert out["data"] is None or out["data"]["items"] is None
    assert out["errors"][0][1][:2] == ["items", 1]


def test_resolver_error_is_located(verify_off: None) -> None:
    out = both("{ items { name boom } }")
    assert out["data"]["items"][1] == {"name": "bb", "boom": None}
    assert out["errors"] == [("bb broke", ["items", 1, "boom"])]


def test_info_beyond_context_is_graphql_cores(verify_off: None) -> None:
    out = both("{ first { fieldName alias: fieldName } }")
    assert out["data"] == {"first": {"fieldName": "fieldName", "alias": "fieldName"}}


def test_directives_follow_each_requests_variables(verify_off: None) -> None:
    query = "query($x: Boolean!) { items { name price @include(if: $x) { amount } } }"
    shown = both(query, {"x": True})
    hidden = both(query, {"x": False})
    assert shown["data"]["items"][0] == {"name": "a", "price": {"amount": 1}}
    assert hidden["data"]["items"][0] == {"name": "a"}
    # And the same document again: no plan of one request leaks into the next.
    assert both(query, {"x": True}) == shown


def test_a_resolver_that_is_sometimes_awaitable(verify_off: None) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = both("{ items { name later { amount currency } } }")
        gc.collect()
    assert out["data"]["items"][1] == {"name": "bb", "later": {"amount": 20, "currency": "IDR"}}
    assert out["data"]["items"][0]["later"] == {"amount": 0, "currency": "EUR"}
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_a_planned_resolver_runs_once(verify_off: None) -> None:
    CALLS.clear()
    asyncio.run(PLANNED.execute("{ items { upper } }"))
    assert CALLS == ["a", "bb", "ccc"]


def test_plans_are_dropped_with_their_document(verify_off: None) -> None:
    gc.collect()
    before = len(compiler.document_plans.by_operation)
    for n in range(20):
        # Distinct documents (Strawberry parses each anew: no cache in this schema).
        asyncio.run(PLANNED.execute(f"{{ items {{ name n{n}: upper }} }}"))
    gc.collect()
    assert len(compiler.document_plans.by_operation) <= before


def test_plan_info_has_only_the_context() -> None:
    info = PlanInfo(context="ctx")
    assert info.context == "ctx"
    with pytest.raises(Exception, match=r"info\.path is not available"):
        _ = info.path


class _Context:
    """A request's context, weakly referable."""


def test_a_request_leaves_no_cycle_behind(verify_off: None) -> None:
    # graphql-core's executor refers to itself; through its context it kept a whole request
    # (loaders, pages, the answer) alive until a full collection. Freed by reference counting now.
    context = _Context()
    alive = weakref.ref(context)
    gc.collect()
    gc.disable()
    try:
        result = asyncio.run(
            PLANNED.execute("{ items { name price { amount } } }", context_value=context)
        )
        assert result.errors is None
        del context, result
        assert alive() is None, "the request's context outlived it: a reference cycle"
    finally:
        gc.enable()
