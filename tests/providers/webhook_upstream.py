"""A provider's API for webhook tests: reading a webhook must call nothing upstream, so every
request is recorded (`calls`, expected empty) and answered 500."""

from __future__ import annotations

from providers.transport import Request, Response


class Upstream:
    """The provider's API as the provider would call it: every call is recorded (none may be)."""

    def __init__(self) -> None:
        self.calls: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.calls.append(request)
        return Response(status_code=500, content=b"{}")
