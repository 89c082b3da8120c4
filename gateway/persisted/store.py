"""Where automatic persisted queries are registered: the `QueryStore` interface, and
`MemoryQueries`, this process's memory, bounded in entries and bytes (a client must not be able
to fill the memory by registering queries)."""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import Final, Protocol

__all__ = ["MAX_QUERIES", "MemoryQueries", "QueryStore"]

#: Queries kept at most, whatever their size.
MAX_QUERIES: Final = 10_000


class QueryStore(Protocol):
    """Query texts by the hex SHA-256 of their UTF-8 bytes. Never raises for the store: a store
    that cannot be asked finds nothing (the client then sends the query in full) and keeps
    nothing."""

    #: True when every process that shares the store sees the same queries.
    shared: bool

    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, query: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryQueries:
    """Queries in this process, least recently used out first, while their sizes add up to more
    than `max_bytes` or there are more than `MAX_QUERIES`; a query over a sixteenth of
    `max_bytes` is never kept (0 keeps none)."""

    shared = False

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // 16
        self.size = 0
        self._queries: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._queries)

    async def get(self, sha256: str) -> str | None:
        entry = self._queries.get(sha256)
        if entry is None:
            return None
        self._queries.move_to_end(sha256)
        return entry[0]

    async def put(self, sha256: str, query: str) -> None:
        size = sys.getsizeof(query) + sys.getsizeof(sha256)
        if size > self.max_entry_bytes:
            return
        old = self._queries.pop(sha256, None)
        if old is not None:
            self.size -= old[1]
        self._queries[sha256] = (query, size)
        self.size += size
        while self.size > self.max_bytes or len(self._queries) > MAX_QUERIES:
            _, (_, dropped) = self._queries.popitem(last=False)
            self.size -= dropped

    async def aclose(self) -> None:
        self._queries.clear()
        self.size = 0
