"""Automatic persisted queries in a real Redis (GATEWAY_REDIS_URL): registered through one
gateway, found by another on the same Redis, under the gateway's namespace with a TTL; and a
Redis that is down turning into PERSISTED_QUERY_NOT_FOUND (the client sends the query in full,
which runs), never a 500."""

from __future__ import annotations

import redis

from gateway.persisted.redis_store import NAMESPACE
from tests.gateway.persisted_served import QUERY, apq, error_of, served, sha256
from tests.processes import free_port


def test_a_query_registered_in_one_process_is_found_by_another(redis_url: str) -> None:
    env = {"GATEWAY_REDIS_URL": redis_url, "GATEWAY_APQ_TTL_SECONDS": "600"}
    with served(env) as first, served(env) as second:
        missing = second.post({"extensions": apq(QUERY)})
        assert missing.status_code == 404
        assert error_of(missing)[0] == "PERSISTED_QUERY_NOT_FOUND"
        registered = first.post({"query": QUERY, "extensions": apq(QUERY)})
        assert registered.status_code == 200, registered.text
        before = second.upstream_total()
        found = second.post({"extensions": apq(QUERY)})
        assert found.status_code == 200, found.text
        assert found.json()["data"] == registered.json()["data"]
        assert second.upstream_total() > before
    client = redis.Redis.from_url(redis_url)
    try:
        key = f"{NAMESPACE}:{sha256(QUERY)}"
        assert client.get(key) == QUERY.encode()
        assert 0 < client.ttl(key) <= 600
    finally:
        client.close()


def test_a_redis_that_is_down_asks_for_the_query_and_the_query_runs() -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with served({"GATEWAY_REDIS_URL": down}) as gateway:
        missing = gateway.post({"extensions": apq(QUERY)})
        assert missing.status_code == 404
        assert error_of(missing)[0] == "PERSISTED_QUERY_NOT_FOUND"
        sent = gateway.post({"query": QUERY, "extensions": apq(QUERY)})
        assert sent.status_code == 200, sent.text
        assert sent.json()["data"]["invoices"]["edges"]
