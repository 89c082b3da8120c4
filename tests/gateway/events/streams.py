"""Clients of the gateway's subscriptions for tests: GraphQL over SSE (`SseSubscription`) and
graphql-transport-ws (`WsConnection`), each reading in the background into a queue, and every
wait bounded."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from types import TracebackType
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

WAIT_S = 10.0


class SseSubscription:
    """`POST /graphql` with `Accept: text/event-stream`; `next()` is the next SSE event as
    (event name, decoded data), heartbeats (comments) counted apart."""

    def __init__(
        self, url: str, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.heartbeats = 0
        self.status: int | None = None
        self.content_type = ""
        self._client = httpx.Client(timeout=httpx.Timeout(WAIT_S, read=None))
        self._body = {"query": query, "variables": variables or {}}
        self._headers = {"accept": "text/event-stream", **headers}
        self._url = url
        self._opened = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> SseSubscription:
        self._thread.start()
        assert self._opened.wait(WAIT_S), "the subscription did not answer"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # The reader sees this at the next line it reads: heartbeats keep coming (the tests'
        # gateways send one every 0.2 s), so it ends within one.
        self._stop.set()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the subscription's reader did not end"
        self._client.close()

    def _read(self) -> None:
        name, data = "", ""
        with (
            contextlib.suppress(httpx.HTTPError, RuntimeError),
            self._client.stream(
                "POST", f"{self._url}/graphql", json=self._body, headers=self._headers
            ) as response,
        ):
            self.status = response.status_code
            self.content_type = response.headers.get("content-type", "")
            self._opened.set()
            if not self.content_type.startswith("text/event-stream"):
                self.events.put(("answer", json.loads(response.read())))
                return
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    self.heartbeats += 1
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif line == "" and name:
                    self.events.put((name, json.loads(data) if data else None))
                    name, data = "", ""
        self._opened.set()

    def next(self, wait: float = WAIT_S) -> tuple[str, Any]:
        return self.events.get(timeout=wait)

    def payloads(self, count: int) -> list[dict[str, Any]]:
        """The next `count` `next` events' payloads (fails on anything else)."""
        found = []
        for _ in range(count):
            name, data = self.next()
            assert name == "next", (name, data)
            found.append(data)
        return found

    def nothing_more(self, wait: float = 0.5) -> bool:
        try:
            self.events.get(timeout=wait)
        except queue.Empty:
            return True
        return False


class WsConnection:
    """A graphql-transport-ws connection, initialised; `received()` is the next message."""

    def __init__(self, url: str, **headers: str) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stack = contextlib.ExitStack()
        self._socket: ClientConnection = self._stack.enter_context(
            connect(
                url.replace("http://", "ws://") + "/graphql",
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                additional_headers=headers,
                open_timeout=WAIT_S,
                close_timeout=2,
            )
        )
        self._socket.send(json.dumps({"type": "connection_init"}))
        ack = json.loads(self._socket.recv(timeout=WAIT_S))
        assert ack["type"] == "connection_ack", ack
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):
            for raw in self._socket:
                self.messages.put(json.loads(raw))

    def send(self, message: dict[str, Any]) -> None:
        self._socket.send(json.dumps(message))

    def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload = {"query": query, "variables": variables or {}}
        self.send({"id": op_id, "type": "subscribe", "payload": payload})

    def received(self, *, skip_pings: bool = True, wait: float = WAIT_S) -> dict[str, Any]:
        while True:
            message = self.messages.get(timeout=wait)
            if skip_pings and message["type"] == "ping":
                continue
            return message

    def close(self) -> None:
        self._stack.close()
        self._thread.join(WAIT_S)
