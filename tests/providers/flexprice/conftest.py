"""A scripted FlexPrice behind `HandlerTransport`, and JSON fixtures."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr

from providers.flexprice import FlexPriceProvider, FlexPriceSettings
from providers.http import HttpPolicy
from providers.models import InvoiceStatus, PaymentStatus
from providers.records import Record, decode_object
from providers.transport import HandlerTransport, Request, Response

FIXTURES = Path(__file__).parent / "fixtures"
API_KEY = "sk_live_do_not_print_me"
BASE_URL = "https://flexprice.test/v1"
#: Tiny waits: retries happen at once, and no test depends on how long anything takes.
POLICY = HttpPolicy(deadline=5.0, attempts=3, wait_initial=0.001, wait_max=0.01, wait_jitter=0)

R = TypeVar("R", bound=Record)
Reply = Response | Callable[[Request], Response] | Exception


OPEN, PAID, VOID, DRAFT = (
    InvoiceStatus.OPEN,
    InvoiceStatus.PAID,
    InvoiceStatus.VOID,
    InvoiceStatus.DRAFT,
)
#: The gateway's reading of FlexPrice's payment axis, written out apart from the tables under test.
PAYMENT = {
    "INITIATED": PaymentStatus.UNPAID,
    "PENDING": PaymentStatus.UNPAID,
    "PROCESSING": PaymentStatus.PROCESSING,
    "SUCCEEDED": PaymentStatus.PAID,
    "OVERPAID": PaymentStatus.OVERPAID,
    "FAILED": PaymentStatus.FAILED,
    "REFUNDED": PaymentStatus.REFUNDED,
    "PARTIALLY_REFUNDED": PaymentStatus.PARTIALLY_REFUNDED,
    "VOIDED": PaymentStatus.UNPAID,
}
FINALIZED = {
    "INITIATED": OPEN,
    "PENDING": OPEN,
    "PROCESSING": OPEN,
    "FAILED": OPEN,
    "VOIDED": OPEN,
    "SUCCEEDED": PAID,
    "OVERPAID": PAID,
    "PARTIALLY_REFUNDED": PAID,
    "REFUNDED": PAID,
}


def expected_statuses(
    invoice_status: str, payment_status: str
) -> tuple[InvoiceStatus, PaymentStatus]:
    """The statuses the gateway gives a known pair, written out apart from the tables."""
    if invoice_status == "DRAFT":
        return DRAFT, PAYMENT[payment_status]
    if invoice_status == "SKIPPED":
        return VOID, PaymentStatus.UNPAID
    if invoice_status == "VOIDED":
        return VOID, PAYMENT[payment_status]
    return FINALIZED[payment_status], PAYMENT[payment_status]


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of `fixtures/<name>.json`."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return copy.deepcopy(data)


def record(model: type[R], data: Any) -> R:
    """`data` as the client reads a body: its JSON bytes decoded into `model`."""
    return decode_object(model, json.dumps(data).encode())


def invoice(**changes: Any) -> dict[str, Any]:
    """The finalized invoice fixture with some fields changed."""
    return {**fixture("invoice_finalized"), **changes}


def page(items: list[dict[str, Any]], *, total: int, offset: int = 0) -> dict[str, Any]:
    return {"items": items, "pagination": {"total": total, "limit": len(items), "offset": offset}}


def error(status: int, code: str, message: str) -> Response:
    body = {"code": code, "message": message, "http_status_code": status}
    return Response.of(status, json=body)


class FakeFlexPrice:
    """Answers scripted replies per `METHOD /path`, in order (the last one repeats).

    An unscripted route gets gin's plain-text 404. Every request is recorded.
    """

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []

    def on(self, route: str, *replies: Reply | dict[str, Any], status: int = 200) -> None:
        self.routes[route] = [
            Response.of(status, json=reply) if isinstance(reply, dict) else reply
            for reply in replies
        ]

    def handler(self, request: Request) -> Response:
        self.requests.append(request)
        replies = self.routes.get(f"{request.method} {request.url.path}")
        if not replies:
            return Response.of(404, text="404 page not found")
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, Response):
            return reply
        return reply(request)

    @property
    def calls(self) -> list[str]:
        """`METHOD /path?query` of every request, in order."""
        calls = []
        for request in self.requests:
            query = f"?{request.url.raw_query_string}" if request.url.raw_query_string else ""
            calls.append(f"{request.method} {request.url.path}{query}")
        return calls

    def body(self, index: int = -1) -> Any:
        """The JSON body of a recorded request (`None` when it had none)."""
        content = self.requests[index].content
        return json.loads(content) if content else None


def make_provider(fake: FakeFlexPrice, **settings: Any) -> FlexPriceProvider:
    values: dict[str, Any] = {"api_key": SecretStr(API_KEY), "base_url": BASE_URL, **settings}
    return FlexPriceProvider(
        settings=FlexPriceSettings(**values),
        transport=HandlerTransport(fake.handler),
        policy=POLICY,
    )


@pytest.fixture
def fake() -> FakeFlexPrice:
    return FakeFlexPrice()


@pytest.fixture
async def provider(fake: FakeFlexPrice) -> AsyncIterator[FlexPriceProvider]:
    provider = make_provider(fake)
    yield provider
    await provider.aclose()
