"""An event as the gateway records it (`RecordedEvent`), its place in the log (a position,
``<milliseconds>-<sequence>`` as Redis Streams number entries, whichever log holds it) and the
cursor a client resumes from.

A position is ordered as the pair of integers it spells: the log hands out increasing ones, so
"after X" means the same in every process that reads the same log. The cursor a client sees
(`InvoiceEvent.id`, the `after` argument) is that position, opaque: URL-safe base64 of
``e1:<position>``, read back by `decode_cursor`, which refuses anything else.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Final

import msgspec

from gateway.errors import ErrorCode, GatewayError
from gateway.ids import encode_id, unwrap
from providers.models import InvoiceEventType, WebhookEvent

__all__ = [
    "Position",
    "RecordedEvent",
    "decode_cursor",
    "decode_event",
    "encode_cursor",
    "encode_event",
    "position_key",
]

#: ``<milliseconds>-<sequence>``, as Redis writes a stream entry's id.
Position = str
_POSITION: Final = re.compile(r"(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,19})")
_CURSOR_PREFIX: Final = "e1:"
_MAX_CURSOR_CHARS: Final = 64
_U64: Final = 2**64 - 1


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A provider's event as the log holds it: the webhook's reading (`WebhookEvent`'s
    fields), when this gateway received it, and, once read back, its `position`."""

    provider: str
    delivery_key: str
    type: InvoiceEventType
    provider_event: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    invoice_id: str
    customer_id: str | None = None
    raw: bytes = b""
    position: Position = ""

    @classmethod
    def of(cls, event: WebhookEvent, *, received_at: dt.datetime) -> RecordedEvent:
        return cls(
            provider=event.provider,
            delivery_key=event.delivery_key,
            type=event.type,
            provider_event=event.provider_event,
            occurred_at=event.occurred_at,
            received_at=received_at,
            invoice_id=event.invoice_id,
            customer_id=event.customer_id,
            raw=event.raw,
        )

    @property
    def cursor(self) -> str:
        return encode_cursor(self.position)

    @property
    def invoice_gid(self) -> str:
        return encode_id("Invoice", self.provider, self.invoice_id)


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(RecordedEvent)


def encode_event(event: RecordedEvent) -> bytes:
    """What the log stores of `event` (JSON; `position` is the log's, not stored)."""
    return _ENCODER.encode(msgspec.structs.replace(event, position=""))


def decode_event(data: bytes | str, position: Position) -> RecordedEvent:
    """An event the log stored, at `position`. Raises msgspec.ValidationError or
    msgspec.DecodeError for what no gateway wrote."""
    return msgspec.structs.replace(_DECODER.decode(data), position=position)


def position_key(position: Position) -> tuple[int, int]:
    """The order of positions. Raises ValueError for text that is not one."""
    match = _POSITION.fullmatch(position)
    if match is None:
        raise ValueError(f"not a log position: {position!r}")
    return int(match[1]), int(match[2])


def encode_cursor(position: Position) -> str:
    """The cursor a client sees for `position`: unpadded URL-safe base64 of ``e1:<position>``."""
    raw = (_CURSOR_PREFIX + position).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(value: object, *, field: str = "after") -> Position:
    """The position a client's cursor names. Raises `GatewayError(INVALID_CURSOR)` naming
    `field` for anything that is not a cursor this gateway wrote."""
    refusal = GatewayError(
        ErrorCode.BAD_USER_INPUT,
        f"{field} is not an event cursor: pass the id of an InvoiceEvent you received",
        field=field,
    )
    text = unwrap(value, field=field, max_chars=_MAX_CURSOR_CHARS, refusal=refusal)
    if not text.startswith(_CURSOR_PREFIX):
        raise refusal
    position = text[len(_CURSOR_PREFIX) :]
    found = _POSITION.fullmatch(position)
    # Redis numbers a stream's entries with two unsigned 64-bit integers: nothing beyond.
    if found is None or int(found[1]) > _U64 or int(found[2]) > _U64:
        raise refusal
    return position
