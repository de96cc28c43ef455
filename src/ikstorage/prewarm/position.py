"""How far a source's run has got: the checkpoint's low-water mark, saved when due.

Batches finish out of order (worker threads), so the position worth saving is
the end of the finished, failure-free prefix of batches, not the last batch
finished: :mod:`ikstorage.prewarm.checkpoint` says why a failed name pins it.
Workers report each name done; only the main thread moves the mark and saves.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ikstorage.prewarm.checkpoint import Checkpoint


@dataclass
class OpenBatch:
    """A batch handed out: the position after it, and how many of its names are still out."""

    position: str | None
    remaining: int
    incomplete: bool = False


@dataclass
class Tracker:
    """The checkpoint's low-water mark: the end of the finished, failure-free prefix of batches."""

    checkpoint: Checkpoint
    #: Seconds between two saves while the run goes on, asked at each look: the
    #: run's setting, read where the run defines it.
    interval: Callable[[], float]
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: deque[OpenBatch] = field(default_factory=deque)
    pinned: bool = False
    #: The low-water mark reached, and the one last saved.
    reached: str | None = None
    saved: str | None = None
    saved_at: float = field(default_factory=time.monotonic)

    def add(self, position: str | None, count: int) -> OpenBatch:
        batch = OpenBatch(position, count)
        with self.lock:
            self.open.append(batch)
        return batch

    def finish(self, batch: OpenBatch, *, complete: bool) -> None:
        with self.lock:
            batch.remaining -= 1
            batch.incomplete |= not complete

    def advance(self, *, stopping: bool = False) -> None:
        """Move the mark past every batch finished so far; save it when due (main thread only).

        It is due every ``interval()`` seconds, and when the run stops.
        """
        with self.lock:
            while self.open and not self.pinned and self.open[0].remaining == 0:
                head = self.open.popleft()
                if head.incomplete:
                    self.pinned = True  # a failed name: resume from here to retry it
                    break
                if head.position is not None:
                    self.reached = head.position
        now = time.monotonic()
        due = stopping or now - self.saved_at >= self.interval()
        if due and self.reached is not None and self.reached != self.saved:
            self.checkpoint.save(self.reached)
            self.saved, self.saved_at = self.reached, now
