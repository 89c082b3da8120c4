"""The access line: what it says, in text and JSON, and when it is written (buffered)."""

from __future__ import annotations

import asyncio
import io
import json

from gateway.telemetry.access import FLUSH_SECONDS, MAX_BUFFER_CHARS, AccessLog
from gateway.telemetry.record import RequestRecord


def record() -> RequestRecord:
    return RequestRecord(
        request_id="rid-1",
        method="POST",
        path="/graphql",
        client="127.0.0.1:5000",
        caller="web",
        operation="Listing",
        operation_type="query",
        outcome="OK",
        status=200,
    )


def test_the_text_line_names_the_request() -> None:
    line = AccessLog(json=False).line(record(), 0.0031)
    assert line == (
        'INFO:     127.0.0.1:5000 "POST /graphql" 200 query Listing OK 3.1ms caller=web rid=rid-1\n'
    )


def test_the_json_line_has_the_keys_of_every_json_line() -> None:
    fields = json.loads(AccessLog(json=True).line(record(), 0.0031))
    assert fields["logger"] == "gateway.access"
    assert fields["level"] == "INFO"
    assert fields["time"].endswith("+00:00")
    assert fields["request_id"] == "rid-1"
    assert fields["operation"] == "query Listing"
    assert fields["caller"] == "web"
    assert fields["duration_ms"] == 3.1
    assert (fields["status"], fields["outcome"], fields["path"]) == (200, "OK", "/graphql")


async def test_lines_wait_at_most_the_flush_interval_or_a_full_buffer() -> None:
    stream = io.StringIO()
    log = AccessLog(json=False, stream=stream)
    for _ in range(3):
        log.write(record(), 0.001)
    assert stream.getvalue() == ""  # buffered
    await asyncio.sleep(FLUSH_SECONDS + 0.2)
    assert stream.getvalue().count("\n") == 3
    lines = MAX_BUFFER_CHARS // len(log.line(record(), 0.001)) + 1
    for _ in range(lines):
        log.write(record(), 0.001)
    assert stream.getvalue().count("\n") == 3 + lines  # a full buffer is written at once
    log.write(record(), 0.001)
    log.flush()  # what the app's lifespan does when it stops
    assert stream.getvalue().count("\n") == 4 + lines


def test_a_path_cannot_forge_a_line_or_shift_the_fields() -> None:
    hostile = record()
    hostile.path = (
        '/graphql\nINFO:     1.2.3.4:1 "GET /admin" 200 query X OK 1.0ms caller=root rid=x'
    )
    line = AccessLog(json=False).line(hostile, 0.001)
    assert line.count("\n") == 1
    assert line.endswith("rid=rid-1\n")
    assert '"POST /graphql%0AINFO:%20%20%20%20%201.2.3.4:1%20%22GET%20/admin%22' in line
    long = record()
    long.path = "/" + "a" * 5000
    shown = AccessLog(json=True).line(long, 0.001)
    assert len(shown) < 1000
    assert '"path":"/' + "a" * 199 + '..."' in shown
