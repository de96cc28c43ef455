"""The bypass switch: every ``CachedStorage`` call goes straight to the wrapped storage.

Used to measure what a page costs without ikstorage (``ikstorage_profile
--compare``). A context variable rather than a global, so one request (or one
asyncio task) measuring its plain cost does not switch the cache off for the
others running in the same process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["bypass_cache", "bypassed"]

_bypass: ContextVar[bool] = ContextVar("ikstorage_bypass", default=False)

#: True inside :func:`bypass_cache`; one context-variable read on the hot path.
bypassed = _bypass.get


@contextmanager
def bypass_cache() -> Iterator[None]:
    """Inside this block every ``CachedStorage`` passes every call straight through.

    Nothing is read from or written to the cache meanwhile.
    """
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)
