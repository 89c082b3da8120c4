"""One API operation (route, handler) and what a handler receives: the :class:`Call`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from sandboxes.kit import routing as kit_routing

from . import errors
from .encoding import JSONObject, MalformedBody, dumps, loads_object
from .records import Account
from .store import XenditSandbox


@dataclass(frozen=True)
class Call:
    """A request that passed authentication, with the account it acts for."""

    request: Request
    sandbox: XenditSandbox
    account: Account

    async def body(self) -> JSONObject:
        """The JSON object body, or 400 ``API_VALIDATION_ERROR`` when it is not one."""
        try:
            return loads_object(await self.request.body())
        except MalformedBody as exc:
            raise errors.validation("Request body must be a valid JSON object") from exc


Handler = Callable[[Call], Awaitable[Response]]
#: One API operation: its method, its path and its handler (``sandboxes.kit.routing``).
Endpoint = kit_routing.Endpoint[Handler]


def json_response(body: object, status: int = 200) -> Response:
    """Compact JSON, money as exact numbers (see ``encoding.dumps``)."""
    return Response(dumps(body), status_code=status, media_type="application/json")
