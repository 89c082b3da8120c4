"""A local Xendit (Invoice API v2 and Customer API) for tests, benchmarks and the gateway.

``create_sandbox_app()`` returns a Starlette app that answers as ``https://api.xendit.co``
does for ``POST /v2/invoices/`` (also without the slash), ``GET /v2/invoices/{invoice_id}``,
``GET /v2/invoices`` (a bare array, newest first, ``last_invoice`` cursor),
``POST /invoices/{invoice_id}/expire!``, ``POST /customers``, ``GET /customers/{id}``,
``GET /customers?reference_id=`` and ``PATCH /customers/{id}``, over seeded deterministic
data. Authentication is HTTP Basic with the API key as user name and an empty password;
the ``for-user-id`` header scopes every call to a xenPlatform sub-account.

State for tests, as plain dicts of records (``records.py`` dataclasses):

- ``app.state.sandbox.invoices[invoice_id]`` -> ``Invoice`` (``.items``, ``.fees``,
  ``.customer`` the embedded ``EmbeddedCustomer``, ``.user_id`` the owning business)
- ``app.state.sandbox.customers[customer_id]`` -> ``Customer``
- ``app.state.sandbox.accounts[user_id]`` -> ``Account`` (master first, then sub-accounts)

Money is ``Decimal`` (written to JSON as exact numbers), times are aware UTC datetimes in
whole milliseconds, ``None`` means unset. A PENDING invoice whose ``expiry_date`` has passed
(by the injected clock) is EXPIRED before any request sees it.

Control routes (no auth, not counted, never faulted): ``GET /_sandbox/stats`` (requests per
``"<METHOD> <route template>"``), ``DELETE /_sandbox/stats`` (zero them), ``POST
/_sandbox/reset`` (restore the seed, zero the stats, clear the faults), ``POST
/_sandbox/invoices/{invoice_id}/pay`` (body ``{"payment_channel", "payment_method"}``, both
optional: PENDING -> PAID), ``POST /_sandbox/invoices/{invoice_id}/settle`` (PAID ->
SETTLED), and ``GET``/``PUT``/``DELETE /_sandbox/faults``: read, replace or clear the faults
injected into the API routes (``{"latency_ms", "error_rate", "status", "retry_after",
"reset_rate", "malformed_rate", "hang"}``, every field optional; a bad one is a 400 naming
it). Their order and meaning are in ``sandboxes.kit.faults``; a dropped connection raises
:class:`ConnectionDropped` in process. ``POST``/``GET /_sandbox/webhooks`` and ``DELETE
/_sandbox/webhooks/{id}`` register, list and remove callback endpoints: pay, settle and
expiry post an invoice callback with ``callback_token`` (``callbacks.py``). ``GET /web/{id}``
is the hosted payment page an invoice's ``invoice_url`` links to (``checkout.py``).
"""

from sandboxes.kit.app import Sandbox
from sandboxes.kit.faults import ConnectionDropped

from .app import DEFAULT_API_KEY, create_sandbox_app
from .store import XenditSandbox

__all__ = [
    "BASE_URL",
    "DEFAULT_API_KEY",
    "ConnectionDropped",
    "XenditSandbox",
    "create_sandbox_app",
    "sandbox",
]

#: What a provider calls the sandbox at in process: a made-up host, Xendit's paths at its root.
BASE_URL = "http://xendit.sandbox"

#: The entry point (``invoice_gateway.sandboxes``: ``xendit``).
sandbox = Sandbox(
    name="xendit", create_app=create_sandbox_app, api_key=DEFAULT_API_KEY, base_url=BASE_URL
)
