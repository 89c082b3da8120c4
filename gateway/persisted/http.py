"""The run path of the view of `/graphql` (`gateway.view.GatewayGraphQL` inherits it): a GET, or
a POST that asks for a stream (SSE), read by Strawberry, with the query its persisted document
names, registered once it ran; and a GET naming one is an operation, never the GraphiQL page.
The view's own JSON POSTs (`GatewayGraphQL._post`) call `PersistedDocuments` themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from gateway.context import GatewayContext
from gateway.persisted.resolve import PersistedDocuments, Resolved

__all__ = ["PersistedView"]


class PersistedView(GraphQL[GatewayContext, None]):
    persisted: PersistedDocuments

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET that names a persisted document has no `query`, yet is an operation (Apollo's
        # link sends it with `accept: */*`), never the page.
        params = request.query_params
        return (
            "extensions" not in params
            and "documentId" not in params
            and super().should_render_graphql_ide(request)
        )

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's reading of a GET or a stream's POST, with the query a persisted
        document names (`gateway.persisted`)."""
        data = await super().parse_http_body(request)
        if isinstance(data, list):  # pragma: no cover - batching is off: refused before this
            return data
        if request.method == "GET":
            document_id: Any = request.query_params.get("documentId")
        else:
            body = self.parse_json(await request.get_body())
            document_id = body.get("documentId") if isinstance(body, dict) else None
        resolved = await self.persisted.resolve(data.query, data.extensions, document_id)
        if not resolved.query:
            # As the view's own POSTs say it; Strawberry's stream (SSE) path raised it inside
            # the stream instead, where it became a masked bug (INTERNAL_SERVER_ERROR).
            raise HTTPException(400, "No GraphQL query found in the request")
        return _PersistedRequest(
            query=resolved.query,
            variables=data.variables,
            operation_name=data.operation_name,
            extensions=data.extensions,
            protocol=data.protocol,
            resolved=resolved,
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: GatewayContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        if isinstance(request_data, _PersistedRequest) and request_data.resolved is not None:
            await self.persisted.register(request_data.resolved, result.errors)
        return result


@dataclass
class _PersistedRequest(GraphQLRequestData):
    """A request as Strawberry read it, with the persisted document it named."""

    resolved: Resolved | None = None
