"""Memo: a minimal provider built on `providers.adapter`, to prove a third provider needs only
its `client.py`, `wire.py`, `mapping.py` and a short `provider.py` (`api.py` is the in-memory
API it talks to in the tests, standing where a sandbox would)."""

from .provider import MemoProvider, MemoSettings, factory

__all__ = ["MemoProvider", "MemoSettings", "factory"]
