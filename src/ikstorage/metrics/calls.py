"""``count_calls()``: what a block of code cost in S3 calls, storage calls and cache trips.

One recorder per ``with`` block. While the block is open the recorder hears
every S3 call made by any botocore client in the process (see
``botocore_hooks``) and every event the storage layer reports through
``ikstorage.metrics``, from every thread: work a request hands to a thread
pool is still that request's cost. Nested blocks each get their own recorder,
so inner and outer both count.
"""

from __future__ import annotations

import time
from types import TracebackType

from ikstorage.metrics import botocore_hooks, events, recorders
from ikstorage.metrics.counts import Counts, Trace
from ikstorage.metrics.stack import caller


class Calls(Counts):
    """Counts for one profiled block; also the context manager that opens it.

    Read the counts during or after the block; they stop changing when it
    closes. With ``trace=True`` each call also records where it came from
    (costly: it walks the stack), for the debug toolbar panel.
    """

    def __init__(self, *, trace: bool = False) -> None:
        super().__init__()
        self._trace = trace

    # -- opening and closing -------------------------------------------------

    def __enter__(self) -> Calls:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Begin counting (what ``with`` does); a recorder counts one block only."""
        if self._started is not None:
            raise RuntimeError("this Calls recorder has already been started; make a new one")
        botocore_hooks.install()
        self._started = time.perf_counter()
        recorders.add(self)
        events.add_sink(self)

    def stop(self) -> None:
        """Stop counting and fix ``duration``."""
        events.remove_sink(self)
        recorders.remove(self)
        if self._stopped is None and self._started is not None:
            self._stopped = time.perf_counter()

    # -- what botocore_hooks reports ------------------------------------------

    def record_s3_call(self, operation: str) -> None:
        with self._lock:
            self._s3[operation] += 1
        self._note("s3", operation)

    def record_presign(self, operation: str) -> None:
        with self._lock:
            self._presigned[operation] += 1
        self._note("presign", operation)

    def record_attempt(self, operation: str, attempt: int, nbytes: int) -> None:
        with self._lock:
            self._attempts += 1
            self._retries += attempt > 1
            self._bytes += nbytes

    # -- the ikstorage.metrics.Sink protocol ---------------------------------

    def on_storage_call(self, method: str) -> None:
        with self._lock:
            self._storage[method] += 1
        self._note("storage", method)

    def on_cache(self, level: events.Level, hits: int, misses: int) -> None:
        with self._lock:
            counts = self._cache[level]
            counts[0] += hits
            counts[1] += misses

    def on_round_trip(self, operation: str) -> None:
        with self._lock:
            self._round_trips[operation] += 1
        self._note("round_trip", operation)

    def on_probe_bytes(self, count: int) -> None:
        with self._lock:
            self._probe_bytes += count

    def _note(self, kind: str, name: str) -> None:
        if self._trace:
            where = caller(skip=2)
            with self._lock:
                self._traces.append(Trace(kind, name, where))


def count_calls(*, trace: bool = False) -> Calls:
    """Count S3, storage and cache calls made in a ``with`` block, from all threads.

    Usage::

        with count_calls() as calls:
            photo.image.width
        calls.s3  # {"HeadObject": 2, "GetObject": 1} on a plain S3Storage
    """
    return Calls(trace=trace)
