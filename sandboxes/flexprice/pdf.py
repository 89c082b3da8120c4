"""A small but valid PDF of an invoice, built by hand (no dependency).

One A4 page, Helvetica text: number, status, customer, dates, one row per line item and the
totals. The cross-reference table carries exact byte offsets, so strict readers accept it.
"""

from __future__ import annotations

from .records import Customer, Invoice
from .serialize import money

_PAGE_WIDTH, _PAGE_HEIGHT = 595, 842
_MAX_LINES = 60


def _escape(text: str) -> bytes:
    """A PDF literal string body: Latin-1 (unknown characters become '?'), escaped."""
    raw = text.encode("latin-1", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _day(inv: Invoice, field: str) -> str:
    value = getattr(inv, field)
    return value.strftime("%Y-%m-%d") if value is not None else "-"


def _text_lines(inv: Invoice, customer: Customer | None) -> list[str]:
    code = inv.currency.upper()
    lines = [
        "FlexPrice Sandbox",
        f"Invoice {inv.invoice_number or '(draft)'}",
        f"Invoice ID: {inv.id}",
        f"Status: {inv.invoice_status} / payment {inv.payment_status}",
        f"Issue date: {_day(inv, 'issue_date')}    Due date: {_day(inv, 'due_date')}",
        "",
    ]
    if customer is not None:
        lines += [
            f"Bill to: {customer.name} ({customer.external_id})",
            customer.email,
            ", ".join(
                part
                for part in (
                    customer.address_line1,
                    customer.address_city,
                    customer.address_postal_code,
                    customer.address_country,
                )
                if part
            ),
            "",
        ]
    else:
        lines += [f"Bill to: {inv.customer_id}", ""]
    lines.append("Items:")
    for item in inv.line_items:
        name = item.display_name or item.price_id or "Item"
        lines.append(f"  {name}   x {money(item.quantity)}   {money(item.amount)} {code}")
    lines += [
        "",
        f"Subtotal: {money(inv.subtotal)} {code}",
        f"Total: {money(inv.total)} {code}",
        f"Amount due: {money(inv.amount_due)} {code}",
        f"Amount paid: {money(inv.amount_paid)} {code}",
        f"Amount remaining: {money(inv.amount_remaining)} {code}",
    ]
    if len(lines) > _MAX_LINES:
        lines = [*lines[: _MAX_LINES - 1], "..."]
    return lines


def _content(lines: list[str]) -> bytes:
    rows = [b"BT", b"/F1 11 Tf", b"14 TL", f"50 {_PAGE_HEIGHT - 60} Td".encode()]
    for index, line in enumerate(lines):
        if index:
            rows.append(b"T*")
        rows.append(b"(" + _escape(line) + b") Tj")
    rows.append(b"ET")
    return b"\n".join(rows)


def render_invoice(inv: Invoice, customer: Customer | None) -> bytes:
    """The invoice as PDF 1.4 bytes."""
    content = _content(_text_lines(inv, customer))
    title = _escape(f"Invoice {inv.invoice_number or inv.id}")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PAGE_WIDTH} {_PAGE_HEIGHT}] "
            "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Title (" + title + b") /Producer (FlexPrice Sandbox) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (
        b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
        + b"startxref\n%d\n%%%%EOF\n" % xref_at
    )
    return bytes(out)
