"""Single-flight: concurrent callers for one key share one call.

When fifty threads of one process ask for the width of the same uncached image
at the same moment, one of them probes the backend and the others wait for its
answer — one ranged GET, not fifty (the cache *breakdown* of a busy page).
Every waiter gets the leader's result, or its exception; nobody waits longer
than the leader's call, and a key is forgotten as soon as its call ends, so a
later caller starts afresh. Across processes the same job is done by
:mod:`ikstorage.lease`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class _Call(Generic[T]):
    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    """Runs ``fn`` once per key at a time; callers arriving meanwhile share its outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Hashable, _Call[T]] = {}

    def do(self, key: Hashable, fn: Callable[[], T]) -> T:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.result  # type: ignore[return-value]
        try:
            call.result = fn()
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()
        return call.result

    def in_flight(self) -> int:
        """Keys being fetched right now (for tests and diagnostics)."""
        with self._lock:
            return len(self._calls)
