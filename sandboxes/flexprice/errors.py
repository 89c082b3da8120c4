"""The sandbox's error: what FlexPrice answers with ``{code, message, http_status_code, details}``.

Status and code follow the server's fixed table (``errMappings`` in its
``internal/errors/errors.go``): 400 ``validation_error`` / ``invalid_operation``, 404
``not_found``, 409 ``already_exists``, 500 ``internal_error``; ``injected`` covers the rest of the
table for fault injection.
"""

from __future__ import annotations

from collections.abc import Mapping

JSONDetails = Mapping[str, object]


class APIError(Exception):
    """An error the sandbox renders as FlexPrice's JSON error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: JSONDetails | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details) if details else None

    def body(self) -> dict[str, object]:
        """The JSON body; ``details`` is omitted when empty, as the server does."""
        out: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "http_status_code": self.status,
        }
        if self.details:
            out["details"] = self.details
        return out


def validation(message: str, *, details: JSONDetails | None = None) -> APIError:
    """400 ``validation_error``."""
    return APIError(400, "validation_error", message, details=details)


def invalid_operation(message: str, *, details: JSONDetails | None = None) -> APIError:
    """400 ``invalid_operation``."""
    return APIError(400, "invalid_operation", message, details=details)


def not_found(message: str, *, details: JSONDetails | None = None) -> APIError:
    """404 ``not_found``."""
    return APIError(404, "not_found", message, details=details)


def already_exists(message: str) -> APIError:
    """409 ``already_exists``."""
    return APIError(409, "already_exists", message)


def required_fields(struct: str, fields: list[str]) -> APIError:
    """400 "Request validation failed" naming each missing field as go-playground does."""
    return validation(
        "Request validation failed",
        details={
            name: (
                f"Key: '{struct}.{name}' Error:Field validation for '{name}' "
                "failed on the 'required' tag"
            )
            for name in fields
        },
    )


def field_rule(struct: str, name: str, tag: str) -> APIError:
    """400 "Request validation failed" for one failed go-playground tag (max, email, ...)."""
    return validation(
        "Request validation failed",
        details={
            name: (
                f"Key: '{struct}.{name}' Error:Field validation for '{name}' "
                f"failed on the '{tag}' tag"
            )
        },
    )


#: The server's status -> code table, for injected faults.
INJECTED_CODES = {
    400: "validation_error",
    403: "permission_denied",
    404: "not_found",
    409: "already_exists",
    429: "too_many_requests",
    500: "internal_error",
    501: "not_implemented",
    503: "service_unavailable",
}
#: What the server calls any error it has no mapping for.
UNKNOWN_CODE = "internal_error"


def injected(status: int) -> APIError:
    """The body FlexPrice would send with ``status``, for ``PUT /_sandbox/faults``."""
    code = INJECTED_CODES.get(status, UNKNOWN_CODE)
    message = f"Injected fault: HTTP {status}; DELETE /_sandbox/faults clears it"
    return APIError(status, code, message)
