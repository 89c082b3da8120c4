"""Fixtures every test folder may use: a real `redis-server` on 127.0.0.1; and every test runs
with planned fields checked against graphql-core (`gateway.schema.plan`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.schema.plan import verify
from tests.redis_server import redis_server

# Every planned field of every in-process gateway is executed by graphql-core too, and the
# request fails on a difference (what GATEWAY_VERIFY_PLANS=1 turns on where the module is
# imported; the gateways the tests start as processes run as users run them).
verify.enabled = True


@pytest.fixture(autouse=True)
def _plans_agree_with_graphql_core() -> Iterator[None]:
    """No test may pass while a planned answer differed from graphql-core's."""
    before = len(verify.mismatches)
    yield
    found = verify.mismatches[before:]
    assert not found, f"planned fields answered differently from graphql-core: {found}"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A fresh `redis-server` of this test's own (no persistence), stopped afterwards."""
    with redis_server() as url:
        yield url
