"""Who may change things: with API keys configured, mutations need a write key."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from gateway.callers import Scope
from gateway.context import GatewayContext

__all__ = ["CanWrite"]


class CanWrite(BasePermission):
    message = "This API key may only read: a mutation needs a key with the write scope"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context = info.context
        if not isinstance(context, GatewayContext) or not context.keys_required:
            return True
        return context.caller is not None and context.caller.scope is Scope.WRITE
