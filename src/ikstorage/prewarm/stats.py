"""The totals of a run, counted from many threads, and the summary made of them."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

#: Problems kept with their file name in the summary; all are counted and reported as they come.
SAMPLES = 100


class Tally:
    """Thread-safe counters: names seen, skipped, probed, written, and the problems."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._samples: list[dict[str, str]] = []

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def count(self, *events: str) -> None:
        with self._lock:
            for event in events:
                self._counts[event] += 1

    def problem(self, name: str, reason: str, *, failed: bool) -> None:
        """A file that needs attention; ``failed``: nothing was stored for it."""
        with self._lock:
            self._counts["errors"] += 1
            self._counts["failed"] += failed
            if len(self._samples) < SAMPLES:
                self._samples.append({"name": name, "reason": reason})

    def __getitem__(self, key: str) -> int:
        with self._lock:
            return self._counts[key]

    def snapshot(self) -> tuple[dict[str, int], list[dict[str, str]]]:
        with self._lock:
            return dict(self._counts), list(self._samples)


@dataclass
class Summary:
    """What a run did. ``as_dict()`` is the ``--json`` output and a task's return value."""

    shard: str
    sources: list[str]
    dry_run: bool
    refresh: bool
    #: Names the sources gave for this shard.
    files_seen: int = 0
    #: Skipped: the cache already held a record (only-missing).
    already_cached: int = 0
    #: Records learned by a backend probe / taken from the listing at no extra call.
    probed: int = 0
    from_listing: int = 0
    #: Records stored; ``kept``: not stored because a save or delete wrote a newer one meanwhile.
    records_written: int = 0
    records_kept: int = 0
    #: Renditions written (``--renditions``), each source downloaded once for all its specs.
    renditions_made: int = 0
    #: Files reported as problems (``failed``: nothing stored, retried by the next run).
    errors: int = 0
    failed: int = 0
    error_samples: list[dict[str, str]] = field(default_factory=list)
    #: Dry run only: names a real run would probe, or fill from the listing, and
    #: sources it would render (their records may be cached already).
    would_probe: int = 0
    would_use_listing: int = 0
    would_render: int = 0
    #: S3 API calls by operation (every botocore client of the process, during the run).
    s3: dict[str, int] = field(default_factory=dict)
    s3_total: int = 0
    s3_attempts: int = 0
    #: Response body bytes S3 sent (listings included), and the part the probes read.
    bytes_downloaded: int = 0
    probe_bytes: int = 0
    #: Shared-cache requests by operation (``get_many`` checks, ``add``/``set`` stores).
    cache_round_trips: dict[str, int] = field(default_factory=dict)
    #: Where each source started (a checkpoint of an interrupted run), by source label.
    resumed_after: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    files_per_second: float = 0.0
    interrupted: bool = False
    #: Why the run stopped early on its own (every file failing: a configuration problem).
    aborted: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def combine(cls, parts: list[dict[str, Any]]) -> dict[str, Any]:
        """One summary of several shards' ``as_dict()``: counts added, time the longest.

        The shards run side by side, so the elapsed time is the slowest one's and
        the rate is files over that time.
        """
        total = cls(
            shard=",".join(str(p["shard"]) for p in parts),
            sources=sorted({s for p in parts for s in p["sources"]}),
            dry_run=any(p["dry_run"] for p in parts),
            refresh=any(p["refresh"] for p in parts),
        ).as_dict()
        for key, value in total.items():
            if isinstance(value, int) and not isinstance(value, bool):
                total[key] = sum(int(p[key]) for p in parts)
        for key in ("s3", "cache_round_trips"):
            merged: Counter[str] = Counter()
            for p in parts:
                merged.update(p[key])
            total[key] = dict(merged)
        total["error_samples"] = [s for p in parts for s in p["error_samples"]][:SAMPLES]
        total["resumed_after"] = {
            f"{label} (shard {p['shard']})": position
            for p in parts
            for label, position in p["resumed_after"].items()
        }
        total["interrupted"] = any(p["interrupted"] for p in parts)
        total["aborted"] = next((p["aborted"] for p in parts if p["aborted"]), None)
        elapsed = max((float(p["elapsed_s"]) for p in parts), default=0.0)
        total["elapsed_s"] = elapsed
        total["files_per_second"] = round(total["files_seen"] / elapsed, 1) if elapsed else 0.0
        return total
