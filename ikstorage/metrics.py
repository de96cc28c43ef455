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
from typing import Literal, Protocol

Level = Literal["l1", "l2"]


class Sink(Protocol):
    """Receives storage-layer events; implemented by the profiler."""

    def on_storage_call(self, method: str) -> None: ...

    def on_cache(self, level: Level, hits: int, misses: int) -> None: ...

    def on_round_trip(self, operation: str) -> None: ...

    def on_probe_bytes(self, count: int) -> None: ...


_sinks: tuple[Sink, ...] = ()
_lock = threading.Lock()


def add_sink(sink: Sink) -> None:
    """Start delivering events to ``sink``."""
    global _sinks
    with _lock:
        _sinks = (*_sinks, sink)


def remove_sink(sink: Sink) -> None:
    """Stop delivering events to ``sink`` (no error if it was not added)."""
    global _sinks
    with _lock:
        _sinks = tuple(s for s in _sinks if s is not sink)


def storage_call(method: str) -> None:
    """A call reached the wrapped storage (``exists``, ``size``, ``_save``...)."""
    for sink in _sinks:
        sink.on_storage_call(method)


def cache(level: Level, hits: int, misses: int) -> None:
    """Lookups answered (hits) or not (misses) by one cache level."""
    if hits or misses:
        for sink in _sinks:
            sink.on_cache(level, hits, misses)


def round_trip(operation: str) -> None:
    """One request to the shared (L2) cache: ``get_many``, ``set``, ``add``..."""
    for sink in _sinks:
        sink.on_round_trip(operation)


def probe_bytes(count: int) -> None:
    """Body bytes an adapter downloaded to learn a file's metadata."""
    for sink in _sinks:
        sink.on_probe_bytes(count)
