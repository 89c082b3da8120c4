"""A local FlexPrice API for tests, benchmarks and the embedded default gateway.

``create_sandbox_app()`` returns a Starlette app that answers the FlexPrice invoice and
customer endpoints under ``/v1`` as the real service does (paths, status codes, JSON shapes
and presence rules, validation, state transitions, pagination, error bodies), over seeded
deterministic data. Reach it in-process with ``providers.transport.AsgiTransport(app)`` (or
any ASGI client), or serve it with uvicorn. The API key is checked in the ``x-api-key``
header. The behaviour is read from FlexPrice's Go server,
https://github.com/flexprice/flexprice: the ``internal/...`` files the modules here name are in
it.

State for tests, as plain dicts of records (``records.py`` dataclasses):

- ``app.state.sandbox.invoices[invoice_id]`` -> ``Invoice`` (``.line_items``, ``.payments``)
- ``app.state.sandbox.customers[customer_id]`` -> ``Customer``
- ``app.state.sandbox.subscriptions[subscription_id]`` -> ``Subscription``
- ``app.state.sandbox.wallets[customer_id][currency]`` -> ``Decimal`` prepaid balance

Money is ``Decimal``, times are aware UTC datetimes, ``None`` means unset.

Control routes (no auth, not counted, never faulted): ``GET /_sandbox/stats`` (requests per
``"<METHOD> <route template>"``), ``DELETE /_sandbox/stats`` (zero them), ``POST
/_sandbox/reset`` (restore the seed, zero the stats, clear the faults), ``GET
/_sandbox/files/{id}.pdf`` (the target of ``GET /v1/invoices/{id}/pdf?url=true``), and
``GET``/``PUT``/``DELETE /_sandbox/faults``: read, replace or clear the faults injected into
the ``/v1`` routes (``{"latency_ms", "error_rate", "status", "retry_after", "reset_rate",
"malformed_rate", "hang"}``, every field optional; a bad one is a 400 naming it). Their
order and meaning are in ``sandboxes.kit.faults``; a dropped connection raises
:class:`ConnectionDropped` in process. ``POST``/``GET /_sandbox/webhooks`` and ``DELETE
/_sandbox/webhooks/{id}`` register, list and remove webhook endpoints: every change the API
makes is posted to them, Svix-signed with ``webhook_secret`` or as FlexPrice's native mode
sends it (``webhooks.py``; the outbox is ``sandboxes.kit.webhooks``).
"""

from sandboxes.kit.app import Sandbox
from sandboxes.kit.faults import ConnectionDropped

from .app import DEFAULT_API_KEY, create_sandbox_app
from .store import FlexPriceSandbox

__all__ = [
    "BASE_URL",
    "DEFAULT_API_KEY",
    "ConnectionDropped",
    "FlexPriceSandbox",
    "create_sandbox_app",
    "sandbox",
]

#: What a provider calls the sandbox at in process: a made-up host, FlexPrice's ``/v1``.
BASE_URL = "http://flexprice.sandbox/v1"

#: The entry point (``invoice_gateway.sandboxes``: ``flexprice``).
sandbox = Sandbox(
    name="flexprice", create_app=create_sandbox_app, api_key=DEFAULT_API_KEY, base_url=BASE_URL
)
