"""The sandboxes as the gateway wires them (`SendsWebhooks`): webhooks to a receiver in the same
process through a `deliver` callable, and `stop_webhooks` at shutdown. Plus what the kit's
outbox bounds: its queue, and the wait for an answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence

import aiohttp
import httpx
import pytest
from svix.webhooks import Webhook

from gateway.wiring import SendsWebhooks
from sandboxes import flexprice, xendit
from sandboxes.flexprice.webhooks import DEFAULT_WEBHOOK_SECRET
from sandboxes.kit import SandboxApp, webhooks
from sandboxes.kit.webhooks import Outbox
from sandboxes.xendit import callbacks
from sandboxes.xendit.callbacks import DEFAULT_CALLBACK_TOKEN

from .flexprice.flexprice_sandbox_helpers import find_customer, one_off_body
from .xendit.xendit_sandbox_helpers import find_invoice

WAIT_S = 10.0
RECEIVER = "http://gateway.local/webhooks/flexprice"


class InProcess:
    """A `deliver` that records each call and answers `status`, or waits for `release` when
    `hold` is set (a receiver that does not answer)."""

    def __init__(self, *, hold: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.hold = hold
        self.release = asyncio.Event()
        self.cancelled = 0

    async def __call__(self, url: str, headers: Sequence[tuple[str, str]], body: bytes) -> int:
        self.calls.append((url, dict(headers), body))
        if self.hold:
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return 200

    async def wait_for(self, count: int) -> None:
        for _ in range(int(WAIT_S / 0.01)):
            if len(self.calls) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(self.calls)} of {count} deliveries came")


def _outbox(app: SandboxApp) -> Outbox:
    outbox: Outbox = app.state.sandbox.webhooks
    return outbox


def _workers() -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("sandbox-webhooks-") and not task.done()
    ]


@pytest.fixture
def fp_app() -> SandboxApp:
    return flexprice.create_sandbox_app(seed=0)


@pytest.fixture
async def fp_api(fp_app: SandboxApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fp_app),
        base_url="http://flexprice.sandbox",
        headers={"x-api-key": flexprice.DEFAULT_API_KEY},
    ) as http:
        yield http


@pytest.fixture
def xnd_app() -> SandboxApp:
    return xendit.create_sandbox_app(seed=0)


@pytest.fixture
async def xnd_api(xnd_app: SandboxApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=xnd_app), base_url="http://xendit.sandbox"
    ) as http:
        yield http


def test_both_sandboxes_send_webhooks_and_say_how_to_authenticate_them() -> None:
    fp, xnd = flexprice.create_sandbox_app(), xendit.create_sandbox_app()
    assert isinstance(fp, SendsWebhooks)
    assert isinstance(xnd, SendsWebhooks)
    assert fp.webhook_settings() == {"FLEXPRICE_WEBHOOK_SECRET": DEFAULT_WEBHOOK_SECRET}
    assert xnd.webhook_settings() == {"XENDIT_CALLBACK_TOKEN": DEFAULT_CALLBACK_TOKEN}
    # What the gateway's entry point builds takes the same keywords.
    assert flexprice.sandbox.app(webhook_secret=DEFAULT_WEBHOOK_SECRET).webhook_settings()
    with pytest.raises(TypeError):
        xendit.sandbox.app(webhook_secret=DEFAULT_WEBHOOK_SECRET)


async def test_flexprice_delivers_in_process_signed_with_the_secret_it_announces(
    fp_app: SandboxApp, fp_api: httpx.AsyncClient
) -> None:
    receiver = InProcess()
    fp_app.send_webhooks_to(RECEIVER, receiver)
    listed = (await fp_api.get("/_sandbox/webhooks")).json()["endpoints"]
    assert [(e["url"], e["mode"], e["in_process"]) for e in listed] == [(RECEIVER, "svix", True)]

    customer = find_customer(fp_app.state.sandbox)
    created = await fp_api.post("/v1/invoices", json=one_off_body(customer.id))
    await receiver.wait_for(1)
    url, headers, body = receiver.calls[0]
    assert url == RECEIVER
    secret = fp_app.webhook_settings()["FLEXPRICE_WEBHOOK_SECRET"]
    Webhook(secret).verify(body, headers)
    assert b'"event_type":"invoice.update.finalized"' in body
    assert created.json()["id"].encode() in body
    await fp_app.stop_webhooks()


async def test_xendit_delivers_in_process_with_its_token(
    xnd_app: SandboxApp, xnd_api: httpx.AsyncClient
) -> None:
    receiver = InProcess()
    xnd_app.send_webhooks_to("http://gateway.local/webhooks/xendit", receiver)
    inv = find_invoice(xnd_app.state.sandbox, status="PENDING")
    assert (await xnd_api.post(f"/_sandbox/invoices/{inv.id}/pay")).is_success
    await receiver.wait_for(1)
    _, headers, body = receiver.calls[0]
    assert headers["x-callback-token"] == xnd_app.webhook_settings()["XENDIT_CALLBACK_TOKEN"]
    assert f'"id":"{inv.id}"'.encode() in body
    await xnd_app.stop_webhooks()


async def test_stop_webhooks_cancels_the_delivery_in_flight_and_leaves_no_task(
    fp_app: SandboxApp, fp_api: httpx.AsyncClient
) -> None:
    receiver = InProcess(hold=True)
    fp_app.send_webhooks_to(RECEIVER, receiver)
    customer = find_customer(fp_app.state.sandbox)
    await fp_api.post("/v1/invoices", json=one_off_body(customer.id))
    await fp_api.post("/v1/invoices", json=one_off_body(customer.id, idempotency_key="k-2"))
    await receiver.wait_for(1)
    assert len(_workers()) == 1
    assert _outbox(fp_app).running()

    async with asyncio.timeout(WAIT_S):
        await fp_app.stop_webhooks()
    assert _workers() == []
    assert _outbox(fp_app).running() == []
    assert receiver.cancelled == 1
    statuses = [d["status"] for d in _outbox(fp_app).describe()["deliveries"]]  # type: ignore[index]
    assert statuses == ["dropped", "dropped"]
    assert len(receiver.calls) == 1  # the queued one never went out


async def test_a_reset_drops_what_is_queued_and_a_new_event_goes_out_after_it(
    fp_app: SandboxApp, fp_api: httpx.AsyncClient
) -> None:
    receiver = InProcess(hold=True)
    fp_app.send_webhooks_to(RECEIVER, receiver)
    customer = find_customer(fp_app.state.sandbox)
    await fp_api.post("/v1/invoices", json=one_off_body(customer.id))
    await receiver.wait_for(1)
    assert (await fp_api.post("/_sandbox/reset")).is_success
    assert (await fp_api.get("/_sandbox/webhooks")).json()["deliveries"] == []
    receiver.hold = False
    customer = find_customer(fp_app.state.sandbox)
    await fp_api.post("/v1/invoices", json=one_off_body(customer.id))
    await receiver.wait_for(2)
    assert receiver.cancelled == 1
    await fp_app.stop_webhooks()
    assert _workers() == []


async def test_the_queue_is_bounded_and_what_does_not_fit_is_logged_dropped(
    xnd_app: SandboxApp, xnd_api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "MAX_QUEUED", 2)
    receiver = InProcess(hold=True)
    xnd_app.send_webhooks_to("http://gateway.local/webhooks/xendit", receiver)
    pending = [i for i in xnd_app.state.sandbox.invoices.values() if i.status == "PENDING"][:4]
    for inv in pending:
        assert (await xnd_api.post(f"/_sandbox/invoices/{inv.id}/pay")).is_success
    await receiver.wait_for(1)
    log = (await xnd_api.get("/_sandbox/webhooks")).json()["deliveries"]
    assert [d["status"] for d in log] == ["pending", "pending", "dropped", "dropped"]
    assert "queue is full" in log[2]["last_error"]
    receiver.release.set()
    await receiver.wait_for(2)
    await xnd_app.stop_webhooks()
    sent = [call[2] for call in receiver.calls]
    assert [
        f'"id":"{inv.id}"'.encode() in body for inv, body in zip(pending[:2], sent, strict=True)
    ] == [True] * 2
    assert len(receiver.calls) == 2


async def test_a_receiver_that_does_not_answer_in_time_counts_as_failed(
    xnd_app: SandboxApp, xnd_api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callbacks, "TIMEOUT_S", 0.05)
    receiver = InProcess(hold=True)
    xnd_app.send_webhooks_to("http://gateway.local/webhooks/xendit", receiver)
    outbox = _outbox(xnd_app)
    (endpoint,) = outbox.endpoints.values()
    endpoint.schedule_ms = (10,)
    inv = find_invoice(xnd_app.state.sandbox, status="PENDING")
    assert (await xnd_api.post(f"/_sandbox/invoices/{inv.id}/pay")).is_success
    done, running = await asyncio.wait(outbox.running(), timeout=WAIT_S)
    assert done
    assert not running
    (delivery,) = (await xnd_api.get("/_sandbox/webhooks")).json()["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 2)
    assert delivery["last_error"] == "no answer within 0.05 s"
    assert receiver.cancelled == 2


async def test_a_flexprice_body_is_the_invoice_when_its_delivery_is_first_attempted(
    fp_app: SandboxApp, fp_api: httpx.AsyncClient
) -> None:
    receiver = InProcess(hold=True)
    fp_app.send_webhooks_to(RECEIVER, receiver)
    customer = find_customer(fp_app.state.sandbox)
    created = (await fp_api.post("/v1/invoices", json=one_off_body(customer.id))).json()
    await receiver.wait_for(1)  # the create's delivery is under way, held by the receiver
    path = f"/v1/invoices/{created['id']}"
    assert (await fp_api.put(path, json={"metadata": {"step": "1"}})).is_success
    assert (await fp_api.put(path, json={"metadata": {"step": "2"}})).is_success
    receiver.hold = False
    receiver.release.set()
    await receiver.wait_for(3)
    await fp_app.stop_webhooks()
    bodies = [json.loads(body) for _, _, body in receiver.calls]
    assert [b["event_type"] for b in bodies] == [
        "invoice.update.finalized",
        *["invoice.update"] * 2,
    ]
    # The first went out before the updates; the two queued behind it were built when their
    # turn came, so both show the invoice as it was then: after the second update.
    assert bodies[0]["invoice"]["metadata"] == {"order_id": "42"}
    assert [b["invoice"]["metadata"] for b in bodies[1:]] == [{"step": "2"}] * 2
    assert bodies[2]["invoice"] == (await fp_api.get(path)).json()


# Where a webhook may go -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("10.1.2.3", True),
        ("192.168.1.10", True),
        ("93.184.216.34", True),
        ("169.254.169.254", False),  # the clouds' metadata service
        ("::ffff:169.254.169.254", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("fe80::1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
    ],
)
def test_webhooks_go_to_local_and_private_networks_but_not_link_local_ones(
    address: str, allowed: bool
) -> None:
    assert webhooks.reachable(address) is allowed


async def test_a_name_that_resolves_to_a_link_local_address_is_not_posted_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No network in tests: the system resolver answers as a hostile DNS would.
    async def resolve(self: object, host: str, port: int = 0, family: int = 0) -> list[dict]:  # type: ignore[type-arg]
        address = "169.254.169.254" if host == "metadata.test" else "127.0.0.1"
        return [
            {"hostname": host, "host": address, "port": port, "family": 2, "proto": 0, "flags": 0}
        ]

    monkeypatch.setattr(aiohttp.ThreadedResolver, "resolve", resolve)
    with pytest.raises(webhooks.Unreachable, match=r"metadata\.test has no address"):
        await webhooks.http_post("http://metadata.test/hook", [], b"{}", timeout_s=5)
    with pytest.raises(webhooks.Unreachable, match=r"169\.254\.169\.254 is not an address"):
        await webhooks.http_post("http://169.254.169.254/hook", [], b"{}", timeout_s=5)


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest", "http://[::ffff:169.254.169.254]/", "http://0.0.0.0:80/x"],
)
async def test_registering_a_link_local_address_is_refused(
    xnd_api: httpx.AsyncClient, url: str
) -> None:
    answer = await xnd_api.post("/_sandbox/webhooks", json={"url": url})
    assert answer.status_code == 400
    assert answer.json()["field"] == "url"
    assert "link-local" in answer.json()["message"]


async def test_a_standalone_sandbox_stops_its_webhooks_when_its_server_stops(
    fp_app: SandboxApp, fp_api: httpx.AsyncClient
) -> None:
    receiver = InProcess(hold=True)
    async with fp_app.router.lifespan_context(fp_app):  # what uvicorn runs around serving
        fp_app.send_webhooks_to(RECEIVER, receiver)
        customer = find_customer(fp_app.state.sandbox)
        await fp_api.post("/v1/invoices", json=one_off_body(customer.id))
        await receiver.wait_for(1)
        assert len(_workers()) == 1
    assert _workers() == []
    assert receiver.cancelled == 1
