"""What storage work costs: the events the storage layer reports, and the recorders that count them.

The cache and the adapters report through :mod:`~ikstorage.metrics.events`;
``count_calls()`` opens a recorder that hears those events and every S3 call
botocore makes. Features count with it (a prewarm run's totals); the
profiler's middleware, panel and command only read what it counted.

The event functions are imported here directly: the hot path calls
``metrics.cache(...)`` and reads ``metrics.sinks.current``. The counting side
is imported on first use, so that importing the cache does not import
botocore's hooks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ikstorage.metrics.events import (
    Level,
    Listeners,
    Sink,
    add_sink,
    cache,
    probe_bytes,
    remove_sink,
    round_trip,
    sinks,
    storage_call,
)

__all__ = [
    "Calls",
    "Counts",
    "Level",
    "Listeners",
    "Sink",
    "Trace",
    "add_sink",
    "cache",
    "count_calls",
    "probe_bytes",
    "remove_sink",
    "round_trip",
    "sinks",
    "storage_call",
]

#: Where each counting name lives, imported on first use.
_HOMES = {
    "Calls": "ikstorage.metrics.calls",
    "count_calls": "ikstorage.metrics.calls",
    "Counts": "ikstorage.metrics.counts",
    "Trace": "ikstorage.metrics.counts",
}

if TYPE_CHECKING:
    from ikstorage.metrics.calls import Calls, count_calls
    from ikstorage.metrics.counts import Counts, Trace


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ikstorage.metrics' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
