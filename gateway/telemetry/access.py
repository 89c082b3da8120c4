"""`AccessLog`: one line per request on stdout, buffered.

It does not go through `logging`: a `LogRecord`, its formatting and a flushed write cost 30-40 us
a request, about a third of a small query's CPU in process (bench/README.md); this writer
formats the line itself (1-3 us) and writes what waits at most every `FLUSH_SECONDS`, or once
`MAX_BUFFER_CHARS` wait, and when the app stops, as nginx's and Envoy's buffered access logs
do. A process killed outright loses at most that last fraction of a second of lines.

Text, in the look of the other lines `serve` writes:

    INFO:     127.0.0.1:50312 "POST /graphql" 200 query Listing OK 3.1ms caller=web rid=5f0c...

or, with GATEWAY_LOG_FORMAT=json, one object with the keys every JSON line has (`time`,
`level`, `logger`, `message`, `request_id`, `operation`, `caller`, `duration_ms`) and the
request's own (`client`, `method`, `path`, `status`, `outcome`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from typing import Final, TextIO
from urllib.parse import quote

import msgspec

from gateway.telemetry.record import RequestRecord

__all__ = ["FLUSH_SECONDS", "MAX_PATH_CHARS", "AccessLog", "shown_path"]

FLUSH_SECONDS: Final = 0.5
MAX_BUFFER_CHARS: Final = 65_536
#: The longest path an access line shows (a request head may hold 16 kB of it).
MAX_PATH_CHARS: Final = 200
_ENCODER = msgspec.json.Encoder()


def shown_path(path: str) -> str:
    """The request's path as the line shows it: ASGI gives it percent-decoded, so it is quoted
    again (a `%0a` in the URL cannot start a forged line, nor a space or quote shift the
    fields), and cut to MAX_PATH_CHARS, with `...` after a cut."""
    quoted = quote(path, safe="/:@!$&'()*+,;=-._~")
    return quoted if len(quoted) <= MAX_PATH_CHARS else quoted[:MAX_PATH_CHARS] + "..."


class AccessLog:
    """Access lines to `stream` (sys.stdout, looked up when written, by default)."""

    def __init__(self, *, json: bool, stream: TextIO | None = None) -> None:
        self.json = json
        self._stream = stream
        self._lines: list[str] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None

    def line(self, record: RequestRecord, seconds: float) -> str:
        """The access line of `record`, answered in `seconds` (with its newline)."""
        path = shown_path(record.path)
        message = (
            f'{record.client} "{record.method} {path}" {record.status} '
            f"{record.operation_type or '-'} {record.operation or '-'} {record.outcome or '-'} "
            f"{seconds * 1000.0:.1f}ms caller={record.caller or '-'} rid={record.request_id}"
        )
        if not self.json:
            return f"INFO:     {message}\n"
        fields = {
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "level": "INFO",
            "logger": "gateway.access",
            "message": message,
            "request_id": record.request_id,
            "operation": record.operation_label(),
            "caller": record.caller,
            "duration_ms": round(seconds * 1000.0, 3),
            "client": record.client,
            "method": record.method,
            "path": path,
            "status": record.status,
            "outcome": record.outcome,
        }
        return _ENCODER.encode(fields).decode() + "\n"

    def write(self, record: RequestRecord, seconds: float) -> None:
        line = self.line(record, seconds)
        self._lines.append(line)
        self._size += len(line)
        if self._size >= MAX_BUFFER_CHARS:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # pragma: no cover - the middleware always runs in a loop
                self.flush()
                return
            self._timer = loop.call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Write every line waiting (the app's lifespan calls it when it stops)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        text, self._lines, self._size = "".join(self._lines), [], 0
        stream = self._stream or sys.stdout
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # stdout closed or gone: the lines cannot be written
            pass
