"""Fixtures every test folder may use: a real `redis-server` on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import redis_server


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A fresh `redis-server` of this test's own (no persistence), stopped afterwards."""
    with redis_server() as url:
        yield url
