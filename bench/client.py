"""The harness's own GraphQL client, for preparing scenarios (never for the timed load)."""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

import httpx

__all__ = ["GatewayClient", "GraphQLFailed"]

TIMEOUT_S = 30.0


class GraphQLFailed(AssertionError):
    """The gateway answered a preparation request with a non-200 status or GraphQL errors."""


class GatewayClient:
    """POSTs JSON to `<url>/graphql` with `api_key` as a bearer token."""

    def __init__(self, url: str, *, api_key: str) -> None:
        self.url = f"{url}/graphql"
        self.headers = {"authorization": f"Bearer {api_key}", "content-type": "application/json"}
        self._http = httpx.Client(timeout=TIMEOUT_S)

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()

    def post(self, body: bytes) -> dict[str, Any]:
        """The answer to `body`; GraphQLFailed unless it is a 200 without `errors`."""
        response = self._http.post(self.url, content=body, headers=self.headers)
        try:
            answer: dict[str, Any] = response.json()
        except ValueError as exc:
            raise GraphQLFailed(f"HTTP {response.status_code}: {response.text[:500]}") from exc
        if response.status_code != 200 or answer.get("errors"):
            raise GraphQLFailed(
                f"HTTP {response.status_code}: {json.dumps(answer.get('errors'))[:1000]}"
            )
        return answer

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        data: dict[str, Any] = self.post(json.dumps(body).encode())["data"]
        return data
