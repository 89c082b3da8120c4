"""`GatewayGraphQL`, the view of `/graphql`: Strawberry's ASGI view, with the gateway's request
id and context, the preflight check of a GET operation, coded refusals, and JSON POSTs answered
by the view itself (`_post`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import msgspec
from cross_web import AsyncHTTPRequestAdapter, HTTPException  # what strawberry.asgi answers
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.streaming import SSETransport
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.auth import WS_UNAUTHENTICATED, admission, refuse_unauthenticated
from gateway.context import GatewayContext
from gateway.documents import DocumentCache
from gateway.errors import ErrorCode
from gateway.events import Events
from gateway.graphiql import PAGE_HEADERS, graphiql_page
from gateway.guard import PREFLIGHT_HEADERS
from gateway.idempotency import IdempotencyStore
from gateway.media import CONTENT_TYPES, Media, conform, label, negotiate, not_acceptable, streams
from gateway.persisted import PersistedDocuments, PersistedView, persisted_documents
from gateway.requests import operation_name, plain_json_post, request_fields, text_only, unreadable
from gateway.schema import build_schema
from gateway.schema.extensions import shape_error
from gateway.schema.limits import limit_extensions
from gateway.settings import GatewaySettings
from gateway.telemetry import OK, current_record, note_outcome, request_id_from
from gateway.websocket import GatewayTransportWS, GatewayWebSocket
from providers.base import InvoiceProvider

__all__ = ["GatewayGraphQL"]

_ENCODER = msgspec.json.Encoder()


class GatewayGraphQL(PersistedView):
    websocket_adapter_class = GatewayWebSocket  # type: ignore[assignment]  # as GraphQL does
    graphql_transport_ws_handler_class = GatewayTransportWS

    def __init__(
        self,
        *,
        providers: Mapping[str, InvoiceProvider],
        settings: GatewaySettings,
        keys_required: bool,
        idempotency: IdempotencyStore,
        events: Events | None = None,
        sandboxes: frozenset[str] = frozenset(),
        persisted: PersistedDocuments | None = None,
        **kw: Any,
    ) -> None:
        limits = limit_extensions(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_root_fields_=settings.max_root_fields,
        )
        #: Parsed and validated queries, kept between requests (bounded in bytes).
        self.documents = DocumentCache(settings.document_cache_bytes)
        schema = build_schema(
            introspection=settings.introspection, limits=limits, documents=self.documents
        )
        super().__init__(schema, **kw)
        self.providers = providers
        self.sandboxes = sandboxes
        self.settings = settings
        self.keys_required = keys_required
        self.idempotency = idempotency
        self.events = events
        #: Automatic persisted queries and trusted documents (`gateway.persisted`).
        self.persisted = persisted if persisted is not None else persisted_documents(settings)
        self.max_subscriptions_per_connection = settings.max_subscriptions_per_connection
        # GraphQL over SSE (distinct connections mode) for subscriptions, with the
        # gateway's heartbeat: a POST (or GET) that accepts text/event-stream.
        self._stream_transport_map[SSETransport.protocol] = SSETransport(
            heartbeat_interval=settings.heartbeat_seconds
        )
        #: POSTs with a JSON body that ask for no stream are answered by `_post`; a stream
        #: (SSE) only Strawberry's `run` serves.
        self._direct_posts = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # KeyGate, around the whole app, has refused this already; refused here too, so that
        # the view fails closed if it is ever served without the gate.
        if self.keys_required and not admission(scope).admitted:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": WS_UNAUTHENTICATED})
            else:
                await refuse_unauthenticated(send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if self._direct_posts and scope["method"] == "POST":
            headers = plain_json_post(scope["headers"])
            if headers is not None:
                await self._post(scope, receive, send, headers)
                return
        # Strawberry answers a request it cannot read (not JSON, another content type, a GET
        # mutation) in plain text: answer with a coded GraphQL error, as every other refusal.
        request = Request(scope=scope, receive=receive)
        accept = request.headers.get("accept")  # the page's and a stream's type are their own
        page = self.should_render_graphql_ide(self.request_adapter_class(request))
        request.state.media = media = Media.JSON if page or streams(accept) else negotiate(accept)
        try:
            response: Response = (
                self.csrf_refusal(request)
                or (not_acceptable(None) if media is None else None)
                or await self.run(request)
            )
        except HTTPException as exc:
            response = unreadable(exc, getattr(request.state, "request_id", None))
        if media is Media.GRAPHQL_RESPONSE:
            response.status_code = getattr(request.state, "status", response.status_code)
            label(response, media)
        await response(scope, receive, send)

    async def _post(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes]
    ) -> None:
        """A POST with a JSON body, as Strawberry's `run` answers it (the same steps in the
        same order: context, body, execution, result), without its request and response
        objects, its content-type parser (`email.message`) or its stream transports (none
        are on): about a fifth of the CPU of a small request."""
        context = self._context(scope, headers.get(b"x-request-id", b""))
        request_id = context.request_id
        media = negotiate(headers.get(b"accept"))
        if media is None:
            await not_acceptable(request_id)(scope, receive, send)
            return
        try:
            body = b""
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            data = self.parse_json(body)
            assert isinstance(data, dict)  # decode_json refuses anything else
            query, variables, extensions = request_fields(data)
            resolved = await self.persisted.resolve(query, extensions, data.get("documentId"))
            try:
                result = await self.schema.execute(
                    resolved.query,
                    variable_values=variables,
                    context_value=context,
                    operation_name=operation_name(data),
                    allowed_operation_types=_POST_OPERATIONS,
                    operation_extensions=extensions,
                )
            except CannotGetOperationTypeError as exc:
                raise HTTPException(400, exc.as_http_error_reason()) from exc
            except InvalidOperationTypeError as exc:
                raise HTTPException(400, exc.as_http_error_reason("POST")) from exc
            except MissingQueryError as exc:
                raise HTTPException(400, "No GraphQL query found in the request") from exc
        except HTTPException as exc:
            await label(unreadable(exc, request_id), media)(scope, receive, send)
            return
        if not isinstance(result, ExecutionResult):  # pragma: no cover - no streams are on
            raise TypeError(f"a POST operation gave {type(result).__name__}")
        await self.persisted.register(resolved, result.errors)
        answer = self._shaped(result, request_id)
        status = conform(answer, result, media)
        encoded = self.encode_json(answer)
        content = encoded.encode() if isinstance(encoded, str) else encoded
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", CONTENT_TYPES[media].encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})

    @property
    def graphql_ide_html(self) -> str:
        # Strawberry's page loads its files from a CDN: this one from the gateway (offline).
        return graphiql_page()

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.graphql_ide_html, headers=PAGE_HEADERS)

    def csrf_refusal(self, request: Request) -> Response | None:
        """400 CSRF_PREVENTED for a GET operation without a header a cross-site form cannot
        send. Whether a GET is an operation or the GraphiQL page is Strawberry's own test
        (`should_render_graphql_ide`) on the request Strawberry reads next, so no spelling of
        the query string is an operation to Strawberry and the page to this check."""
        if request.method != "GET" or any(h in request.headers for h in PREFLIGHT_HEADERS):
            return None
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return None  # the page, or 404 when GraphiQL is off: nothing is executed
        message = (
            "A GET operation needs the header apollo-require-preflight (or "
            "x-apollo-operation-name), so no other site can send it: or use POST with JSON"
        )
        note_outcome("CSRF_PREVENTED")
        return JSONResponse(
            {"errors": [{"message": message, "extensions": {"code": "CSRF_PREVENTED"}}]},
            status_code=400,
        )

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData):  # `operationName` refused as `_post` does
            operation_name({"operationName": data.operation_name})
        return data

    def encode_json(self, data: object) -> bytes:
        # msgspec: the same JSON as json.dumps(separators=(",", ":")) but UTF-8 left as is
        # (not \u-escaped), at a ninth of the cost (156 -> 17 us for 50 invoices).
        return _ENCODER.encode(data)

    def decode_json(self, data: str | bytes) -> object:
        # Strawberry answers 500 for a JSON body that is not an object (`null`, `1`, `[]` with
        # batching off): refuse it as the client's mistake it is.
        try:
            value = json.loads(data)
        # Not JSON, not UTF-8, an integer of 5000 digits, ...; or arrays nested deeper than
        # the interpreter's recursion limit, which a body far below the size cap can hold.
        except (ValueError, RecursionError) as exc:
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(value, dict):
            raise HTTPException(
                400, "A GraphQL request, and its `variables`, must be a JSON object"
            )
        return text_only(data, value)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = self._shaped(result, getattr(request.state, "request_id", None))
        # Read back by __call__ for application/graphql-response+json (`gateway.media`).
        request.state.status = conform(answer, result, getattr(request.state, "media", None))
        return answer

    @staticmethod
    def _shaped(result: ExecutionResult, request_id: str | None) -> GraphQLHTTPResponse:
        # ErrorPolicy shapes what execution produced; a syntax error, or an exception raised
        # outside execution, reaches the client only through here.
        if result.errors:
            result.errors = [shape_error(error, request_id) for error in result.errors]
            extensions = result.errors[0].extensions
            note_outcome(str((extensions or {}).get("code") or ErrorCode.INTERNAL_SERVER_ERROR))
        else:
            note_outcome(OK)
        return process_result(result)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GatewayContext:
        context = self._context(request.scope, request.headers.get("x-request-id", "").encode())
        request.state.request_id = context.request_id
        if isinstance(response, Response):
            response.headers["X-Request-ID"] = context.request_id
        return context

    def _context(self, scope: Scope, given: bytes) -> GatewayContext:
        # The request's record (gateway.telemetry) has its id; without one (the view served
        # without the middleware), made as it would: the caller's when short and plain.
        record = current_record()
        request_id = record.request_id if record is not None else request_id_from(given)
        caller = admission(scope).caller  # decided once, by KeyGate
        if record is not None and caller is not None:
            record.caller = caller.name
        return GatewayContext(
            providers=self.providers,
            settings=self.settings,
            request_id=request_id,
            caller=caller,
            keys_required=self.keys_required,
            idempotency=self.idempotency,
            sandboxes=self.sandboxes,
            events=self.events,
        )


#: What a POST may run (Strawberry's `OperationType.from_http("POST")`; the schema refuses a
#: subscription outside a stream: `gateway.schema.SubscriptionNeedsAStream`).
_POST_OPERATIONS = frozenset(OperationType.from_http("POST"))
