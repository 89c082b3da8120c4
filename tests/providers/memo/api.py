"""Memo's API, in memory: what the minimal provider beside it talks to, through
`providers.transport.HandlerTransport` (no socket). Not part of the provider: it stands where a
real API, or a sandbox, would.

- `GET /invoices?limit=&status=&customer=&currency=&created_after=&created_before=&after=`:
  newest first, `{data, cursors, has_more, total}`; a cursor is a keyset (`<created>|<id>`).
- `GET /invoices/{id}`, `GET /customers/{id}`: the record or 404.
- `POST /invoices` with an `idempotency_key` in its body: 201 and the invoice, or the invoice that
  key already made (200); 422 for an unknown customer.
- Every request carries `x-memo-key`, or is 401. `requests` counts what was answered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import msgspec
from yarl import URL

from providers.transport import Request, Response

KEY = "memo_test_key"
BASE_URL = "http://memo.test"
_STATUSES = ("draft", "open", "paid", "void")
_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _time(text: str | None, default: dt.datetime | None = None) -> dt.datetime:
    if text is None and default is not None:
        return default
    return dt.datetime.fromisoformat(str(text))


def _error(status: int, code: str, message: str) -> Response:
    return Response.of(status, json={"error": {"code": code, "message": message}})


class MemoApi:
    def __init__(self, *, key: str = KEY, invoices: int = 25) -> None:
        self.key = key
        self.requests = 0
        self.customers = {f"cus_{n}": {"id": f"cus_{n}", "name": f"Customer {n}"} for n in range(4)}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        for n in range(invoices):
            # Every third pair shares a creation time: the keyset must break ties by id.
            created = _START + dt.timedelta(hours=n - n % 3)
            self._store(
                f"cus_{n % 4}", ("USD", "EUR")[n % 2], _STATUSES[n % 4], Decimal(n), created
            )

    def _store(
        self, customer: str, currency: str, status: str, total: Decimal, created: dt.datetime
    ) -> dict[str, Any]:
        number = len(self.invoices)
        invoice = {
            "id": f"inv_{number:04d}",
            "customer": customer,
            "currency": currency,
            "status": status,
            "total": str(total),
            "created": created.isoformat().replace("+00:00", "Z"),
        }
        self.invoices[invoice["id"]] = invoice
        return invoice

    def __call__(self, request: Request) -> Response:
        self.requests += 1
        if request.headers.get("x-memo-key") != self.key:
            return _error(401, "unauthorized", "x-memo-key is missing or wrong")
        parts = [unquote(part) for part in request.url.raw_path.strip("/").split("/")]
        match request.method, parts:
            case "GET", ["invoices"]:
                return self._list(request)
            case "GET", ["invoices", invoice_id] if invoice_id in self.invoices:
                return Response.of(200, json=self.invoices[invoice_id])
            case "GET", ["customers", customer_id] if customer_id in self.customers:
                return Response.of(200, json=self.customers[customer_id])
            case "POST", ["invoices"]:
                return self._create(request)
        return _error(404, "not_found", "no such record")

    def _list(self, request: Request) -> Response:
        query = request.url.query
        wanted = {
            name: set(query[name].split(","))
            for name in ("status", "customer", "currency")
            if name in query
        }
        since = _time(query.get("created_after"), dt.datetime.min.replace(tzinfo=dt.UTC))
        until = _time(query.get("created_before"), dt.datetime.max.replace(tzinfo=dt.UTC))
        rows = sorted(
            (
                invoice
                for invoice in self.invoices.values()
                if all(invoice[name] in values for name, values in wanted.items())
                and since < _time(invoice["created"]) < until
            ),
            key=lambda invoice: (_time(invoice["created"]), invoice["id"]),
            reverse=True,
        )
        total = len(rows)
        if "after" in query:
            created, _, last = query["after"].partition("|")
            try:
                edge = (_time(created), last)
            except ValueError:
                return _error(400, "bad_cursor", "after: not a cursor of this API")
            rows = [row for row in rows if (_time(row["created"]), row["id"]) < edge]
        limit = int(query.get("limit", "10"))
        page = rows[:limit]
        return Response.of(
            200,
            json={
                "data": page,
                "cursors": [f"{row['created']}|{row['id']}" for row in page],
                "has_more": len(rows) > limit,
                "total": total,
            },
        )

    def _create(self, request: Request) -> Response:
        body = msgspec.json.decode(request.content or b"{}")
        key = body["idempotency_key"]
        if key in self.by_key:
            return Response.of(200, json=self.invoices[self.by_key[key]])
        if body.get("customer") not in self.customers:
            return _error(422, "unknown_customer", "customer: no such customer")
        total = sum(
            (Decimal(line["quantity"]) * Decimal(line["unit_amount"]) for line in body["lines"]),
            Decimal(0),
        )
        now = _START + dt.timedelta(days=365, seconds=len(self.invoices))
        invoice = self._store(body["customer"], body["currency"], "open", total, now)
        self.by_key[key] = invoice["id"]
        return Response.of(201, json=invoice)


class MemoApp:
    """`MemoApi` as an ASGI app, for the gateway to wire in process as it wires a sandbox."""

    def __init__(self, api: MemoApi) -> None:
        self.api = api

    def expose(self, url: str) -> None:
        """Memo's answers hold no links: nothing to point at `url`."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        target = scope["raw_path"].decode() + "?" + scope["query_string"].decode()
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        url = URL(BASE_URL + target.rstrip("?"), encoded=True)
        response = self.api(Request(scope["method"], url, headers, body or None))
        sent = [(name.encode(), value.encode()) for name, value in response.headers.items()]
        await send({"type": "http.response.start", "status": response.status_code, "headers": sent})
        await send({"type": "http.response.body", "body": response.content})


class MemoSandbox:
    """What an `invoice_gateway.sandboxes` entry point names (see `gateway.wiring.SandboxEntry`)."""

    name = "memo"
    api_key = KEY
    base_url = BASE_URL

    def app(self, *, api_key: str | None = None, seed: int = 0, latency_ms: int = 0) -> MemoApp:
        return MemoApp(MemoApi(key=api_key or KEY))


sandbox = MemoSandbox()
