"""A gateway served on 127.0.0.1 from environment variables (as `serve` builds it), over both
in-process sandboxes, for the persisted documents tests: its URL, and what its FlexPrice sandbox
was asked (`/sandbox/flexprice/_sandbox/stats`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway.app import create_app, providers_from_environment
from gateway.settings import GatewaySettings
from tests.serving import ServedApp

#: A query that reads FlexPrice (one upstream search, at least).
QUERY = "query Few { invoices(first: 2) { edges { node { id } } } }"
PREFLIGHT = {"apollo-require-preflight": "true"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(query: str, *, version: Any = 1, hash_: str | None = None) -> dict[str, Any]:
    """`extensions` as Apollo's persisted-queries link sends them."""
    return {"persistedQuery": {"version": version, "sha256Hash": hash_ or sha256(query)}}


@dataclass
class Served:
    url: str
    http: httpx.Client

    def post(self, body: Mapping[str, Any]) -> httpx.Response:
        return self.http.post(f"{self.url}/graphql", json=body)

    def get(
        self, params: Mapping[str, str], headers: Mapping[str, str] = PREFLIGHT
    ) -> httpx.Response:
        # Apollo Client's HttpLink sends accept: */* by default.
        return self.http.get(
            f"{self.url}/graphql", params=params, headers={"accept": "*/*", **headers}
        )

    def upstream_total(self) -> int:
        """Requests the FlexPrice sandbox has served so far."""
        stats = self.http.get(f"{self.url}/sandbox/flexprice/_sandbox/stats").json()
        return int(stats["requests_total"])


@contextlib.contextmanager
def served(environ: Mapping[str, str] | None = None) -> Iterator[Served]:
    env = {"GATEWAY_PROVIDERS": "flexprice", **(environ or {})}
    settings = GatewaySettings.from_environ(env)
    app = create_app(settings=settings, providers=providers_from_environment(settings, env))
    with ServedApp(app, lifespan=True) as server, httpx.Client(timeout=20) as http:
        yield Served(server.url, http)


def write_manifest(directory: Path, content: Any, name: str = "manifest.json") -> str:
    path = directory / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def error_of(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of the one error of a refusal."""
    [error] = response.json()["errors"]
    return error["extensions"]["code"], error["message"]
