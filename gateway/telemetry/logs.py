"""How `serve` writes its log: text (uvicorn's look) or, with GATEWAY_LOG_FORMAT=json, one JSON
object per line (`python-json-logger`).

Every record written while a request is served carries that request's `request_id`,
`operation` (its type and name), `caller` (the key's name, never the key) and `duration_ms`
(since the request arrived; the access line's is the whole request's): `RequestFields`, a
filter on the handler, takes them from the current `RequestRecord`. In JSON they are keys of
the line. The access lines have the same keys but are written apart (`gateway.telemetry.access`).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from gateway.telemetry.record import current_record

__all__ = ["LogFormat", "RequestFields", "logging_config"]

LogFormat = Literal["text", "json"]

#: What a JSON line has before the request's fields: when, how bad, where from, what.
_JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
_RENAMED = {"levelname": "level", "name": "logger"}


class RequestFields(logging.Filter):
    """Adds the current request's fields to a record (None outside a request); a field the
    record already has is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = current_record()
        fields = record.__dict__
        fields.pop("color_message", None)  # uvicorn's copy of the message with ANSI colours
        if current is None:
            fields.setdefault("request_id", None)
            fields.setdefault("operation", None)
            fields.setdefault("caller", None)
            fields.setdefault("duration_ms", None)
            return True
        fields.setdefault("request_id", current.request_id)
        if current.operation_type is not None:
            fields.setdefault(
                "operation", f"{current.operation_type} {current.operation or ''}".rstrip()
            )
        else:
            fields.setdefault("operation", None)
        fields.setdefault("caller", current.caller)
        fields.setdefault("duration_ms", round(current.elapsed_ms(), 3))
        return True


def logging_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """The `logging.config.dictConfig` of `serve`: uvicorn's loggers and the gateway's on one
    handler (stderr) at `level`, in `log_format`. (The access lines go to stdout on their own:
    `gateway.telemetry.access`.)"""
    level = level.upper()
    if log_format == "json":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": _JSON_FIELDS,
            "rename_fields": _RENAMED,
            "timestamp": "time",  # ISO 8601, UTC
            "json_ensure_ascii": False,
        }
        formatters = {"default": formatter}
    else:
        formatters = {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
            },
        }
    filters = {"request": {"()": "gateway.telemetry.logs.RequestFields"}}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "filters": filters,
        "handlers": {
            "default": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["request"],
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Off (`serve` passes access_log=False): the gateway writes its own.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "gateway": {"handlers": ["default"], "level": level, "propagate": False},
            # The provider packages' own (an unknown status, a webhook refused): else Python's
            # last-resort handler wrote them as bare text, outside the format and the level.
            "providers": {"handlers": ["default"], "level": level, "propagate": False},
            # OpenTelemetry's (a malformed `baggage` or `tracestate` a client sent, an export
            # that failed), which were bare text too.
            "opentelemetry": {"handlers": ["default"], "level": level, "propagate": False},
            "stamina": {"handlers": ["default"], "level": level, "propagate": False},
            "strawberry": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
