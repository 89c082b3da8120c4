"""Webhook deliveries over real HTTP on 127.0.0.1: what the server's parser and Starlette's
`request.headers` hand `read_webhook` still refuses a repeated header and accepts any case of a
name. The receiver here stands in for the gateway's: `read_webhook(request.headers, body)`,
401 on `WebhookRefused`, 400 on `WebhookMalformed`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from svix.webhooks import Webhook

from providers.base import InvoiceProvider
from providers.errors import WebhookMalformed, WebhookRefused
from providers.flexprice.provider import factory as flexprice
from providers.xendit.provider import factory as xendit
from tests.serving import ServedApp

from .test_flexprice_webhooks import SECRET, payload
from .test_xendit_webhooks import SAMPLE, TOKEN


def receiver(providers: dict[str, InvoiceProvider]) -> Starlette:
    async def receive(request: Request) -> JSONResponse:
        provider = providers[request.path_params["name"]]
        try:
            events = provider.read_webhook(
                request.headers, await request.body(), received_at=dt.datetime.now(dt.UTC)
            )
        except WebhookRefused as exc:
            return JSONResponse({"error": exc.message}, status_code=401)
        except WebhookMalformed as exc:
            return JSONResponse({"error": exc.message}, status_code=400)
        return JSONResponse({"events": [[e.type, e.invoice_id, e.delivery_key] for e in events]})

    return Starlette(routes=[Route("/webhooks/{name}", receive, methods=["POST"])])


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    providers: dict[str, InvoiceProvider] = {
        "xendit": xendit({"XENDIT_SECRET_KEY": "xnd_test_key", "XENDIT_CALLBACK_TOKEN": TOKEN}),
        "flexprice": flexprice(
            {"FLEXPRICE_API_KEY": "fp_test_key", "FLEXPRICE_WEBHOOK_SECRET": SECRET}
        ),
    }
    with ServedApp(receiver(providers)) as served:
        yield served.url


def post(url: str, name: str, headers: list[tuple[str, str]], body: bytes) -> httpx.Response:
    with httpx.Client(timeout=10) as client:
        return client.post(f"{url}/webhooks/{name}", headers=headers, content=body)


def test_a_callback_with_its_token_in_any_case_is_read(url: str) -> None:
    answer = post(url, "xendit", [("X-CALLBACK-TOKEN", TOKEN)], SAMPLE)
    assert answer.status_code == 200
    assert answer.json()["events"][0][:2] == ["PAID", "593f4ed1c3d3bb7f39733d83"]


@pytest.mark.parametrize(
    "headers",
    [
        [("x-callback-token", TOKEN), ("x-callback-token", TOKEN)],
        [("x-callback-token", "wrong-token-value"), ("X-Callback-Token", TOKEN)],
        [("X-Callback-Token", TOKEN), ("x-callback-token", "wrong-token-value")],
    ],
    ids=["twice-right", "wrong-then-right", "right-then-wrong"],
)
def test_a_token_sent_twice_is_refused(url: str, headers: list[tuple[str, str]]) -> None:
    answer = post(url, "xendit", headers, SAMPLE)
    assert answer.status_code == 401
    assert answer.json() == {"error": "the x-callback-token header is given more than once"}


def _signed(body: bytes, message_id: str = "msg_http_1") -> list[tuple[str, str]]:
    at = dt.datetime.now(dt.UTC)
    signature = Webhook(SECRET).sign(message_id, at, body)  # type: ignore[arg-type]
    return [
        ("Svix-Id", message_id),
        ("Svix-Timestamp", str(int(at.timestamp()))),
        ("Svix-Signature", signature),
    ]


def test_a_signed_delivery_over_http_is_read(url: str) -> None:
    body = payload("invoice.update.voided")
    answer = post(url, "flexprice", _signed(body), body)
    assert answer.status_code == 200
    assert answer.json()["events"] == [["VOIDED", "inv_01JEXAMPLE0000000000000001", "msg_http_1"]]


def test_a_second_svix_id_is_refused(url: str) -> None:
    body = payload()
    headers = [*_signed(body), ("svix-id", "msg_http_2")]
    answer = post(url, "flexprice", headers, body)
    assert answer.status_code == 401
    assert answer.json() == {"error": "the svix-id header is given more than once"}


def test_a_verified_body_that_is_not_json_is_a_400(url: str) -> None:
    body = b"<not json>"
    answer = post(url, "flexprice", _signed(body), body)
    assert answer.status_code == 400
    assert answer.json() == {"error": "body: must be JSON"}
