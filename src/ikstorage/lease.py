"""Short exclusive leases in the shared cache: one holder at a time per key.

A lease is ``cache.add(key, token, ttl)``: the one process whose ``add``
succeeds holds it; the others wait, polling with a growing pause, until it is
released (deleted) or expires by itself (a holder that died). Used to order
the writes to one name (``CachedStorage.save``/``delete``: the backend write
and the record write happen inside the lease, so the record left in the cache
is the one of the write the storage kept) and, by the renditions, to do an
expensive job once across processes.

The cache is an optimisation, never a dependency: when it cannot be reached
the lease is ``UNAVAILABLE`` and the caller goes ahead (everyone does the job,
nobody is blocked); when waiting takes longer than ``wait`` seconds it is
``TIMED_OUT`` and the caller goes ahead too, knowing its write is not ordered.
"""

from __future__ import annotations

import enum
import secrets
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ikstorage.cache import MetadataCache

__all__ = ["Lease", "State"]

#: First and longest pause between two attempts to take a held lease (seconds).
FIRST_PAUSE = 0.002
LONGEST_PAUSE = 0.05


class State(enum.Enum):
    HELD = "held"
    #: The shared cache did not answer: go ahead unordered; nobody is blocked.
    UNAVAILABLE = "unavailable"
    #: Another holder kept it longer than we were willing to wait.
    TIMED_OUT = "timed out"


class Lease:
    """One attempt to hold ``key`` for at most ``ttl`` seconds."""

    def __init__(self, cache: MetadataCache, key: str, *, ttl: float) -> None:
        self.cache = cache
        self.key = key
        self.ttl = ttl
        self.token = secrets.token_hex(8)
        self.state: State | None = None
        self.acquired_at = 0.0
        #: How many ``add`` attempts the lease took (1 when uncontended).
        self.attempts = 0

    def acquire(self, *, wait: float) -> State:
        """Take the lease, waiting up to ``wait`` seconds for another holder."""
        deadline = time.monotonic() + wait
        pause = FIRST_PAUSE
        while True:
            self.attempts += 1
            added = self.cache.add_raw(self.key, self.token, self.ttl)
            now = time.monotonic()
            if added is None:
                self.state = State.UNAVAILABLE
                return self.state
            if added:
                self.state, self.acquired_at = State.HELD, now
                return self.state
            if now >= deadline:
                self.state = State.TIMED_OUT
                return self.state
            time.sleep(min(pause, max(deadline - now, 0.0)))
            pause = min(pause * 2, LONGEST_PAUSE)

    @property
    def still_held(self) -> bool:
        """True while the lease is surely ours: held, and not yet near its expiry.

        A margin of a tenth of the TTL covers the clock of the cache server
        starting the expiry a little before our ``add`` returned.
        """
        return self.state is State.HELD and time.monotonic() - self.acquired_at < self.ttl * 0.9

    def release(self, also: Iterable[str] = ()) -> None:
        """Give the lease back, deleting ``also`` (keys to invalidate) in the same round trip.

        A lease that may have expired is left to expire: deleting it could free a
        lease another process holds by now.
        """
        keys = list(also)
        if self.still_held:
            keys.append(self.key)
        if keys:
            self.cache.delete_many(keys)
        self.state = None
