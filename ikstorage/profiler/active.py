"""The recorders that are listening right now, process-wide.

Kept apart from the hooks and the recorder class so both can depend on it
without depending on each other. The tuple is replaced, never mutated, so the
hooks read it without a lock: when nothing is profiling, an S3 call pays one
attribute load and one truth test.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ikstorage.profiler.calls import Calls

recorders: tuple[Calls, ...] = ()
_lock = threading.Lock()


def add(recorder: Calls) -> None:
    """Deliver S3 events to ``recorder`` from now on, from every thread."""
    global recorders
    with _lock:
        recorders = (*recorders, recorder)


def remove(recorder: Calls) -> None:
    """Stop delivering S3 events to ``recorder`` (no error if it was not added)."""
    global recorders
    with _lock:
        recorders = tuple(r for r in recorders if r is not recorder)
