"""Events the storage layer reports, for whoever is listening.

The cache and the adapters announce what they do (a call that reached the
wrapped storage, L1/L2 hits and misses, an L2 round trip, bytes read by a
probe) through the functions below. Nothing listens unless a profiler is
active, and then each event costs one tuple check: the hot path pays nothing
measurable when profiling is off.

Sinks are process-wide on purpose: an S3 call made by a worker thread on
behalf of a request is still that request's cost.
"""

from __future__ import annotations

import threading
from typing import Generic, Literal, Protocol, TypeVar

Level = Literal["l1", "l2"]
T = TypeVar("T")


class Listeners(Generic[T]):
    """A process-wide set of listeners.

    ``current`` is a tuple that is replaced, never mutated, so the hot path
    reads it without a lock: with nobody listening, an event costs one
    attribute load and one truth test.
    """

    def __init__(self) -> None:
        self.current: tuple[T, ...] = ()
        self._lock = threading.Lock()

    def add(self, listener: T) -> None:
        with self._lock:
            self.current = (*self.current, listener)

    def remove(self, listener: T) -> None:
        """Stop delivering to ``listener`` (no error if it was not added)."""
        with self._lock:
            self.current = tuple(x for x in self.current if x is not listener)


class Sink(Protocol):
    """Receives storage-layer events; implemented by the profiler."""

    def on_storage_call(self, method: str) -> None: ...

    def on_cache(self, level: Level, hits: int, misses: int) -> None: ...

    def on_round_trip(self, operation: str) -> None: ...

    def on_probe_bytes(self, count: int) -> None: ...


sinks: Listeners[Sink] = Listeners()
#: Start delivering events to a sink.
add_sink = sinks.add
#: Stop delivering events to a sink (no error if it was not added).
remove_sink = sinks.remove


def storage_call(method: str) -> None:
    """A call reached the wrapped storage (``exists``, ``size``, ``_save``...)."""
    for sink in sinks.current:
        sink.on_storage_call(method)


def cache(level: Level, hits: int, misses: int) -> None:
    """Lookups answered (hits) or not (misses) by one cache level."""
    if hits or misses:
        for sink in sinks.current:
            sink.on_cache(level, hits, misses)


def round_trip(operation: str) -> None:
    """One request to the shared (L2) cache: ``get_many``, ``set``, ``add``..."""
    for sink in sinks.current:
        sink.on_round_trip(operation)


def probe_bytes(count: int) -> None:
    """Body bytes an adapter downloaded to learn a file's metadata."""
    for sink in sinks.current:
        sink.on_probe_bytes(count)
