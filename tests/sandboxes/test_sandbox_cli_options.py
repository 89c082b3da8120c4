"""`invoice-gateway sandbox flexprice --webhook-secret` and `sandbox xendit --callback-token`:
the standalone sandbox (the real console script, bound to 127.0.0.1) signs or marks its
webhooks with what it was given; a bad value or an option of the other sandbox is refused in
one line before anything starts."""

from __future__ import annotations

import httpx
import pytest
from svix.webhooks import Webhook, WebhookVerificationError

from gateway.cli import main
from sandboxes.flexprice.webhooks import DEFAULT_WEBHOOK_SECRET
from tests.processes import clean_env, free_port, running
from tests.sandboxes.webhook_receiver import served_receiver

SECRET = "whsec_" + "Y2xpLWdpdmVuLXNlY3JldC1vZi1zb21lLWJ5dGVz"


async def test_a_standalone_flexprice_signs_with_the_secret_it_was_given() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["sandbox", "flexprice", "--port", str(port), "--webhook-secret", SECRET]
    with served_receiver() as receiver, running(args, clean_env(), f"{base}/_sandbox/stats"):
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            registered = await http.post("/_sandbox/webhooks", json={"url": receiver.url})
            assert registered.json()["secret"] == SECRET
            customers = await http.get(
                "/v1/customers", headers={"x-api-key": "sk_sandbox_flexprice"}
            )
            customer_id = customers.json()["items"][0]["id"]
            created = await http.post(
                "/v1/invoices",
                headers={"x-api-key": "sk_sandbox_flexprice"},
                json={
                    "customer_id": customer_id,
                    "currency": "USD",
                    "invoice_type": "ONE_OFF",
                    "amount_due": "10",
                    "subtotal": "10",
                    "total": "10",
                    "line_items": [{"amount": "10", "quantity": "1"}],
                },
            )
            assert created.status_code == 201, created.text
            (delivery,) = await receiver.wait_for(1)
    Webhook(SECRET).verify(delivery.body, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)


async def test_a_standalone_xendit_sends_the_token_it_was_given() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["sandbox", "xendit", "--port", str(port), "--callback-token", "cli-token-12345"]
    with served_receiver() as receiver, running(args, clean_env(), f"{base}/_sandbox/stats"):
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            registered = await http.post("/_sandbox/webhooks", json={"url": receiver.url})
            assert registered.json()["callback_token"] == "cli-token-12345"
            listed = await http.get(
                "/v2/invoices",
                params={"statuses": '["PENDING"]', "limit": 1},
                auth=httpx.BasicAuth("xnd_development_sandbox_key", ""),
            )
            (invoice,) = listed.json()
            assert (await http.post(f"/_sandbox/invoices/{invoice['id']}/pay")).is_success
            (delivery,) = await receiver.wait_for(1)
    assert delivery.headers["x-callback-token"] == "cli-token-12345"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sandbox", "xendit", "--webhook-secret", SECRET], "--webhook-secret is an option of"),
        (["sandbox", "flexprice", "--callback-token", "token-123"], "of the xendit sandbox"),
        (["sandbox", "flexprice", "--webhook-secret", "not-a-secret"], "webhook_secret must"),
        (["sandbox", "xendit", "--callback-token", "short"], "callback_token must"),
    ],
)
def test_a_bad_option_is_refused_before_anything_starts(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
