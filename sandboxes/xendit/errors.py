"""The sandbox's error: what Xendit answers with ``{"error_code": ..., "message": ...}``.

The SDK maps no status to its error models, so statuses are read from their names: 400 for
validation and business-rule refusals, 401 ``INVALID_API_KEY``, 403 for a sub-account the key
may not act for, 404 for unknown invoices and customers, 500 ``SERVER_ERROR``; ``injected``
gives any status a body, for fault injection.
"""

from __future__ import annotations


class APIError(Exception):
    """An error the sandbox renders as Xendit's JSON error body."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, object]:
        return {"error_code": self.error_code, "message": self.message}


def validation(message: str) -> APIError:
    """400 ``API_VALIDATION_ERROR``: a missing, mistyped or out-of-range field."""
    return APIError(400, "API_VALIDATION_ERROR", message)


def bad_request(error_code: str, message: str) -> APIError:
    """400 with one of the create-invoice codes (``UNSUPPORTED_CURRENCY``, ...)."""
    return APIError(400, error_code, message)


def invalid_api_key() -> APIError:
    """401 ``INVALID_API_KEY``."""
    return APIError(
        401,
        "INVALID_API_KEY",
        "API key is not authorized for this API service. Send the secret key as the Basic "
        "auth user name with an empty password",
    )


def forbidden_sub_account(user_id: str) -> APIError:
    """403 ``REQUEST_FORBIDDEN_ERROR``: ``for-user-id`` names no sub-account of this key."""
    return APIError(
        403,
        "REQUEST_FORBIDDEN_ERROR",
        f"The API key is forbidden to perform this request for user {user_id}: "
        "for-user-id must be a sub-account of this business",
    )


def invoice_not_found(invoice_id: str) -> APIError:
    """404 ``INVOICE_NOT_FOUND_ERROR``."""
    return APIError(404, "INVOICE_NOT_FOUND_ERROR", f"Could not find invoice {invoice_id}")


def server_error() -> APIError:
    """500 ``SERVER_ERROR``."""
    return APIError(500, "SERVER_ERROR", "An unexpected error occurred, please try again")


#: ``error_code`` per status for injected faults. 429 and 503 are not in the SDK's error
#: models: ``RATE_LIMIT_EXCEEDED`` and ``SERVICE_UNAVAILABLE`` are guesses.
INJECTED_CODES = {
    400: "API_VALIDATION_ERROR",
    401: "INVALID_API_KEY",
    403: "REQUEST_FORBIDDEN_ERROR",
    404: "NOT_FOUND",
    429: "RATE_LIMIT_EXCEEDED",
    500: "SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
#: For a status not in the table: a 4xx reads as a refused request, a 5xx as a server failure.
UNKNOWN_CLIENT_CODE = "API_VALIDATION_ERROR"
UNKNOWN_SERVER_CODE = "SERVER_ERROR"


def injected(status: int) -> APIError:
    """The body Xendit would send with ``status``, for ``PUT /_sandbox/faults``."""
    fallback = UNKNOWN_CLIENT_CODE if status < 500 else UNKNOWN_SERVER_CODE
    message = f"Injected fault: HTTP {status}; DELETE /_sandbox/faults clears it"
    return APIError(status, INJECTED_CODES.get(status, fallback), message)
