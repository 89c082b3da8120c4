"""Global IDs: opaque strings that encode (type, provider, native id).

The encoding is URL-safe base64 of `Type:provider:native_id`; clients must treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import StrEnum

from gateway.errors import ErrorCode, GatewayError

__all__ = ["GlobalId", "NodeType"]


class NodeType(StrEnum):
    INVOICE = "Invoice"
    CUSTOMER = "Customer"


@dataclass(frozen=True, slots=True)
class GlobalId:
    type: NodeType
    provider: str
    native_id: str

    def encode(self) -> str:
        raw = f"{self.type.value}:{self.provider}:{self.native_id}".encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, value: str, *, field: str, expect: NodeType | None = None) -> GlobalId:
        """Parse a client's ID; `GatewayError(INVALID_ID)` naming `field` when it is not one."""
        try:
            padded = value + "=" * (-len(value) % 4)
            text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
            type_name, provider, native_id = text.split(":", 2)
            node_type = NodeType(type_name)
        except (ValueError, UnicodeError, binascii.Error) as exc:
            raise GatewayError(
                ErrorCode.INVALID_ID,
                f"{field} is not an ID issued by this API: use the `id` field of an "
                "Invoice or Customer",
                field=field,
            ) from exc
        if not provider or not native_id:
            raise GatewayError(
                ErrorCode.INVALID_ID, f"{field} is not an ID issued by this API", field=field
            )
        if expect is not None and node_type is not expect:
            raise GatewayError(
                ErrorCode.INVALID_ID,
                f"{field} must be the ID of a {expect.value}, not of a {node_type.value}",
                field=field,
            )
        return cls(node_type, provider, native_id)
