"""The numbers one profiled block collected, readable while it runs and after.

Kept apart from the recording side (``calls``) so the reports, the command
and the panel depend only on what they read. Every read takes the lock, so a
count read while other threads are still adding is a consistent snapshot.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any, NamedTuple


class Trace(NamedTuple):
    """One recorded call and the line of user code it came from."""

    kind: str  # "s3", "presign", "storage" or "round_trip"
    name: str  # operation or method name
    where: str  # ``path:line in function``


class Counts:
    """S3, storage and cache counts; ``Calls`` fills them in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._s3: Counter[str] = Counter()
        self._presigned: Counter[str] = Counter()
        self._storage: Counter[str] = Counter()
        self._round_trips: Counter[str] = Counter()
        self._cache = {"l1": [0, 0], "l2": [0, 0]}
        self._attempts = self._retries = self._bytes = self._probe_bytes = 0
        self._traces: list[Trace] = []
        self._started: float | None = None
        self._stopped: float | None = None

    @property
    def s3(self) -> dict[str, int]:
        """S3 API calls by operation name, e.g. ``{"HeadObject": 2, "GetObject": 1}``."""
        with self._lock:
            return dict(self._s3)

    @property
    def s3_total(self) -> int:
        with self._lock:
            return sum(self._s3.values())

    @property
    def s3_attempts(self) -> int:
        """HTTP attempts made for S3 calls: calls plus retries."""
        return self._attempts

    @property
    def retries(self) -> int:
        return self._retries

    @property
    def presigned(self) -> dict[str, int]:
        """Presigned URLs (and POSTs) generated, by operation: signed locally, no HTTP."""
        with self._lock:
            return dict(self._presigned)

    @property
    def presigned_total(self) -> int:
        with self._lock:
            return sum(self._presigned.values())

    @property
    def bytes_downloaded(self) -> int:
        """Response body bytes S3 sent (a ranged GET counts its range only)."""
        return self._bytes

    @property
    def storage(self) -> dict[str, int]:
        """Calls that reached the wrapped storage, by method, for any backend."""
        with self._lock:
            return dict(self._storage)

    @property
    def storage_total(self) -> int:
        with self._lock:
            return sum(self._storage.values())

    @property
    def l1_hits(self) -> int:
        return self._cache["l1"][0]

    @property
    def l1_misses(self) -> int:
        return self._cache["l1"][1]

    @property
    def l2_hits(self) -> int:
        return self._cache["l2"][0]

    @property
    def l2_misses(self) -> int:
        return self._cache["l2"][1]

    @property
    def round_trips(self) -> dict[str, int]:
        """Requests to the shared (L2) cache, by operation (``get_many``, ``add``...)."""
        with self._lock:
            return dict(self._round_trips)

    @property
    def round_trips_total(self) -> int:
        with self._lock:
            return sum(self._round_trips.values())

    @property
    def probe_bytes(self) -> int:
        """Body bytes ikstorage's adapters read to learn metadata (any backend)."""
        return self._probe_bytes

    @property
    def duration(self) -> float:
        """Seconds the block was open (so far, if it still is)."""
        if self._started is None:
            return 0.0
        end = self._stopped if self._stopped is not None else time.perf_counter()
        return end - self._started

    @property
    def traces(self) -> list[Trace]:
        """Each call with where it came from; empty unless ``trace=True``."""
        with self._lock:
            return list(self._traces)

    def as_dict(self) -> dict[str, Any]:
        """Every count as plain JSON-ready values."""
        return {
            "s3": self.s3,
            "s3_total": self.s3_total,
            "s3_attempts": self.s3_attempts,
            "retries": self.retries,
            "presigned": self.presigned,
            "bytes_downloaded": self.bytes_downloaded,
            "storage": self.storage,
            "storage_total": self.storage_total,
            "cache": {
                "l1": {"hits": self.l1_hits, "misses": self.l1_misses},
                "l2": {"hits": self.l2_hits, "misses": self.l2_misses},
            },
            "round_trips": self.round_trips,
            "round_trips_total": self.round_trips_total,
            "probe_bytes": self.probe_bytes,
            "duration_ms": round(self.duration * 1000, 3),
        }
