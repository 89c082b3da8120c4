"""A request's objects are freed by reference counting when its answer is written.

An object of ours caught in a reference cycle lives on until the collector's next pass over its
generation: with a page of invoices behind it (the decoded records, the mapped invoices), that
kept about 85 objects and a whole upstream page per request alive, and made every generation-1
pass walk them (about a third of the collector's time in the benchmark).
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from typing import Any

import pytest

from gateway.context import GatewayContext
from gateway.documents import DocumentCache
from gateway.schema import build_schema
from gateway.settings import GatewaySettings
from gateway.wiring import on_sandbox

# Every listing shape: one provider and both merged, cursors and page info read, customers
# through the loaders, a second page from a cursor.
LISTING = """
query Listing($provider: [String!], $after: String) {
  invoices(first: 7, after: $after, filter: {provider: $provider}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id number status total { amount currency formatted }
      lineItems { description amount { amount } }
      customer { id name email externalId } } }
  }
}
"""


def _ours(garbage: list[Any]) -> Counter[str]:
    """The objects of the gateway's and the providers' own types among `garbage` (the sandboxes
    are test doubles of the providers' servers here, not the product)."""
    found: Counter[str] = Counter()
    for obj in garbage:
        module = getattr(type(obj), "__module__", "") or ""
        if module.startswith(("gateway.", "providers.")) and ".sandbox" not in module:
            found[f"{module}.{type(obj).__qualname__}"] += 1
    return found


@pytest.mark.parametrize("provider", [["flexprice"], ["xendit"], None])
def test_a_listing_leaves_no_object_of_ours_in_a_cycle(provider: list[str] | None) -> None:
    async def run() -> Counter[str]:
        settings = GatewaySettings()
        providers = {name: on_sandbox(name).provider for name in ("flexprice", "xendit")}
        schema = build_schema(documents=DocumentCache())

        async def listing(after: str | None) -> str | None:
            result = await schema.execute(
                LISTING,
                variable_values={"provider": provider, "after": after},
                context_value=GatewayContext(
                    providers=providers, settings=settings, request_id="cycles"
                ),
            )
            assert result.errors is None, result.errors
            assert result.data is not None
            connection = result.data["invoices"]
            assert len(connection["edges"]) == 7
            end: str | None = connection["pageInfo"]["endCursor"]
            return end

        await listing(None)  # warm: plans, documents, connections
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            await listing(await listing(None))
            gc.collect()
            return _ours(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()

    assert asyncio.run(run()) == Counter()
