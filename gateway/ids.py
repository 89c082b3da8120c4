"""Global IDs, and the one way every opaque token a client sends back is read.

A global ID is URL-safe base64 of `Type:provider:native_id`; a connection cursor
(`gateway.pagination`) is URL-safe base64 of `c1:` and JSON. Clients must treat both as opaque,
and may send anything in their place: `unwrap` is the first step of decoding either, and bounds
what a token can cost before anything else looks at it (its length, its alphabet, its text).
Each decoder then checks its own structure and raises only `GatewayError` naming the argument.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from gateway.errors import ErrorCode, GatewayError

__all__ = ["MAX_ID_CHARS", "MAX_NATIVE_ID_CHARS", "GlobalId", "NodeType", "encode_id", "unwrap"]

#: The longest global ID read: far above any provider's ids (FlexPrice's are 30 characters,
#: Xendit's 24), far below what a provider's URL can carry.
MAX_ID_CHARS: Final = 1024
#: The longest native id inside one (Stripe documents 255 for its own ids).
MAX_NATIVE_ID_CHARS: Final = 255

# Unpadded URL-safe base64, or padded with one or two "=" (what a client's library may add).
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class NodeType(StrEnum):
    INVOICE = "Invoice"
    CUSTOMER = "Customer"


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def encode_id(node_type: str, provider: str, native_id: str) -> str:
    """The global ID of a node: unpadded URL-safe base64 of `Type:provider:native_id` (what
    `GlobalId.encode` gives, at a quarter of its cost: a listing writes one per invoice)."""
    raw = f"{node_type}:{provider}:{native_id}".encode()
    encoded = binascii.b2a_base64(raw, newline=False).translate(_URL_SAFE).rstrip(b"=")
    return encoded.decode("ascii")


def unwrap(value: object, *, field: str, max_chars: int, refusal: GatewayError) -> str:
    """The text inside an opaque token: `value` is URL-safe base64 (at most `max_chars`
    characters, checked first) of UTF-8 text with no control, format or unassigned characters.

    Raises `refusal` (chained to the cause) for anything else, whatever `value` holds."""
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise refusal
    if not _BASE64URL.fullmatch(value) or len(value.rstrip("=")) % 4 == 1:
        raise refusal
    try:
        padded = value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (ValueError, binascii.Error) as exc:  # UnicodeDecodeError is a ValueError
        raise refusal from exc
    if not text.isprintable():
        raise refusal
    return text


def _not_an_id(field: str) -> GatewayError:
    return GatewayError(
        ErrorCode.INVALID_ID,
        f"{field} is not an ID issued by this API: use the `id` field of an Invoice or Customer",
        field=field,
    )


@dataclass(frozen=True, slots=True)
class GlobalId:
    type: NodeType
    provider: str
    native_id: str

    def encode(self) -> str:
        return encode_id(self.type.value, self.provider, self.native_id)

    @classmethod
    def decode(cls, value: object, *, field: str, expect: NodeType | None = None) -> GlobalId:
        """Parse a client's ID; `GatewayError(INVALID_ID)` naming `field` when it is not one:
        not a string of at most `MAX_ID_CHARS`, not our encoding, an unknown type, a provider
        name that cannot be one, or a native id that is empty, longer than
        `MAX_NATIVE_ID_CHARS` or holds an invisible character."""
        refusal = _not_an_id(field)
        text = unwrap(value, field=field, max_chars=MAX_ID_CHARS, refusal=refusal)
        type_name, _, rest = text.partition(":")
        provider, _, native_id = rest.partition(":")
        try:
            node_type = NodeType(type_name)
        except ValueError as exc:
            raise refusal from exc
        if not _PROVIDER_NAME.fullmatch(provider) or not native_id:
            raise refusal
        if len(native_id) > MAX_NATIVE_ID_CHARS or native_id != native_id.strip():
            raise refusal
        if expect is not None and node_type is not expect:
            raise GatewayError(
                ErrorCode.INVALID_ID,
                f"{field} must be the ID of a {expect.value}, not of a {node_type.value}",
                field=field,
            )
        return cls(node_type, provider, native_id)
