"""Two cache levels: an in-process dictionary (L1) in front of a Django cache (L2).

L1 answers repeated lookups in one process without a network round trip; it
is a :class:`~ikstorage.cache.local.LocalCache`, so each entry expires on its
own clock (never later than its L2 entry, never later than the L1 timeout)
and a warm read takes no lock. L2 is any Django cache alias and is what new
processes share; every call to it goes through the alias's
:class:`~ikstorage.cache.health.Health`, so an outage is a miss, never an error.

L1 is read three ways: :func:`local_level` hands out the alias's
:class:`~ikstorage.cache.local.LocalCache` for its raw item read (the warm
page's answers, :mod:`ikstorage.core.warm`, which check the expiry themselves),
:meth:`MetadataCache.peek` the live value or marker, :meth:`MetadataCache.local`
the entry or ``None``. Lookups that may go on to L2 (:meth:`get`, :meth:`get_many`) report
their hits and misses to the profiler (:mod:`ikstorage.metrics`).

A value L2 hands back that fails validation (``DESIGN.md``, invariant 16) is
a miss, noted in L1 as :data:`INVALID` rather than :data:`ABSENT`: a fill
``add`` would fail on it for good, so the read path replaces it instead
(:meth:`MetadataCache.invalid` tells it to, see :mod:`ikstorage.core.reads`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ikstorage import metrics
from ikstorage.cache.broadcast import Broadcast, broadcast_for, stop_all
from ikstorage.cache.health import DOWN, Health, l2
from ikstorage.cache.local import LocalCache
from ikstorage.cache.markers import ABSENT, INVALID, TRIED, Absent, missing
from ikstorage.cache.unreadable import read_many
from ikstorage.records import Entry, decode, is_record_key

__all__ = ["ABSENT", "INVALID", "TRIED", "MetadataCache", "clear_local", "local_level"]


_lock = threading.Lock()
_health: dict[str, Health] = {}
_local: dict[str, LocalCache[Entry]] = {}


def _shared(alias: str, maxsize: int) -> tuple[Health, LocalCache[Entry]]:
    with _lock:
        if alias not in _health:
            _health[alias] = Health(alias)
            _local[alias] = LocalCache(maxsize)
        return _health[alias], _local[alias]


def local_level(alias: str, maxsize: int) -> LocalCache[Entry]:
    """L1 of ``alias``, shared by every storage using it: for the warm answers' raw reads.

    Bound once when a storage is built, without building L2: L1 holds nothing
    for an alias until a lookup through :class:`MetadataCache` filled it.
    """
    return _shared(alias, maxsize)[1]


def clear_local() -> None:
    """Forget every in-process entry and outage state (tests, settings changes).

    Cleared in place: storages built earlier keep using the same objects. The
    broadcast stops listening until its next use (the cache may be another).
    """
    stop_all()
    with _lock:
        for local in _local.values():
            local.clear()
        for health in _health.values():
            health.reset()


class MetadataCache:
    """The two levels for one storage: L1 shared per alias in the process, then L2."""

    def __init__(
        self, alias: str, *, local_timeout: float, local_maxsize: int, broadcast: bool = False
    ) -> None:
        self.alias = alias
        self.local_timeout = local_timeout
        self._health, self._local = _shared(alias, local_maxsize)
        #: L1's raw read: the entry, ``ABSENT`` (L2 had nothing), or ``None``.
        self.peek: Callable[[str], Any] = self._local.get
        #: Writes announced to other processes, theirs heard (``OPTIONS["broadcast"]``).
        self.broadcast: Broadcast | None = (
            broadcast_for(alias, self._local, self._health) if broadcast else None
        )

    def announcing(self) -> AbstractContextManager[None]:
        """A block whose changes are announced in one message (one write: one publish)."""
        return nullcontext() if self.broadcast is None else self.broadcast.gathered()

    # -- L1 -------------------------------------------------------------------

    def local(self, key: str) -> Entry | None:
        """The entry this process holds for ``key`` (L1 only, no round trip)."""
        value = self._local.get(key)
        return None if isinstance(value, Absent) else value

    def invalid(self, key: str) -> bool:
        """True when the last L2 read of ``key`` found a value that failed validation.

        Such a value is a miss that a fill's ``add`` can never replace: the read
        path replaces it under the name's lease instead.
        """
        return self._local.get(key) is INVALID

    def keep_locally(self, key: str, value: Entry, timeout: float | None) -> None:
        """Hold ``value`` in L1 only, for at most ``timeout`` (and the L1 timeout)."""
        ttl = self.local_timeout if timeout is None else min(timeout, self.local_timeout)
        # ttl <= 0 means "do not keep": an older entry must not outlive this write.
        self._local.set(key, value, ttl)

    # -- both levels ----------------------------------------------------------

    def get(
        self, key: str, *, siblings: Callable[[], Iterable[str]] | Iterable[str] = ()
    ) -> Entry | None:
        """One entry; on an L1 miss, fetch ``siblings`` from L2 in the same round trip.

        ``siblings`` may be a function, called only on an L1 miss: a warm lookup
        then pays nothing to name them.
        """
        value = self.peek(key)
        if value is not None:
            metrics.cache("l1", 1, 0)
            return None if isinstance(value, Absent) else value
        return self.get_many([key], siblings=siblings() if callable(siblings) else siblings).get(
            key
        )

    def get_many(self, keys: Iterable[str], *, siblings: Iterable[str] = ()) -> dict[str, Entry]:
        """Entries found in L1, then in L2 with a single ``get_many`` for the rest.

        L1 holds the decoded entries, so a warm lookup costs no parsing; L2
        holds their plain form (see :mod:`ikstorage.records`).
        """
        found: dict[str, Entry] = {}
        wanted: list[str] = []
        known = 0
        for key in keys:
            value = self.peek(key)
            if value is None:
                wanted.append(key)
                continue
            known += 1
            if not isinstance(value, Absent):
                found[key] = value
        metrics.cache("l1", known, len(wanted))
        if not wanted:
            return found
        # Siblings this process already holds are not asked again (nor overwritten).
        fetch = wanted + [k for k in siblings if k not in wanted and self.peek(k) is None]
        if self.broadcast is not None:
            self.broadcast.listen(fetch)
        mark = self._local.drops
        remote, unreadable = read_many(self._health, self.alias, fetch)
        hits = 0
        for key in fetch:
            entry = decode(key, remote[key]) if key in remote else None
            # L2 does not tell us its remaining TTL; the L1 timeout bounds staleness.
            # A key L2 lacks is noted too, so the fill that follows (or the page
            # after a prefetch) does not ask L2 again; an absent entry never
            # answers anything, it only sends the lookup to the backend.
            noted = entry if entry is not None else missing(key, remote, unreadable)
            if self._local.drops == mark or not self._local.dropped_since(key, mark):
                self.keep_locally(key, noted, None)  # not if a write was announced meanwhile
            if entry is not None and key in wanted:
                found[key] = entry
                hits += 1
        metrics.cache("l2", hits, len(wanted) - hits)
        return found

    def fresh(self, key: str) -> Entry | None:
        """L2's entry for ``key``, this process's copy skipped.

        For a holder of a lease: what another process wrote before the lease
        was taken counts, and L1 may not have seen it yet.
        """
        self._local.pop_many([key])
        return self.get_many([key]).get(key)

    def add(self, key: str, value: Entry, timeout: float | None) -> bool:
        """Fill after a read: never overwrites a newer value another writer put in L2.

        ``False`` when L2 already held a value (this one was not stored).
        """
        plain, mark = value.to_plain(), self._local.drops
        added = self._health.run("add", lambda: l2(self.alias).add(key, plain, timeout), None)
        if added is not False:
            # Stored, or L2 unavailable: what we just read from the backend is the
            # best answer this process has (unless another process announced a write).
            if not self._local.dropped_since(key, mark):
                self.keep_locally(key, value, timeout)
            return True
        # L2 holds a newer value: leave L1 empty so the next lookup reads it.
        self._local.pop_many([key])
        return False

    def get_raw(self, key: str, default: object = None) -> object:
        """A plain value from L2 only (a prewarm checkpoint).

        ``None`` when absent; ``default`` when L2 is unavailable, so a caller can
        tell "none" from "could not look".
        """
        return self._health.run("get", lambda: l2(self.alias).get(key), default)

    def set_raw(self, key: str, value: str, timeout: float) -> bool:
        """Store a plain value in L2 only; ``False`` when L2 is unavailable."""

        def store() -> bool:
            l2(self.alias).set(key, value, timeout)
            return True

        return self._health.run("set", store, False)

    def add_raw(self, key: str, value: str, timeout: float) -> bool | None:
        """``add`` a plain string to L2 only (a lease token); ``None`` when L2 is unavailable."""
        added = self._health.run("add", lambda: l2(self.alias).add(key, value, timeout), None)
        return None if added is None else bool(added)

    def add_raw_once(self, key: str, value: str, timeout: float) -> bool | None:
        """:meth:`add_raw`, at most once per ``timeout`` seconds in this process.

        For markers many requests would otherwise ``add`` again and again (a
        rendition queued for a worker): a repeat within ``timeout`` costs no round
        trip and answers ``False``, as the shared cache would.
        """
        if self.peek(key) is TRIED:
            return False
        added = self.add_raw(key, value, timeout)
        self.keep_locally(key, TRIED, timeout)
        return added

    def set(self, key: str, value: Entry, timeout: float | None) -> None:
        """Write-through after our own write succeeded on the backend."""
        self.set_many({key: value}, timeout)

    def set_many(self, values: Mapping[str, Entry], timeout: float | None) -> None:
        for key, value in values.items():
            self.keep_locally(key, value, timeout)
        plain = {key: value.to_plain() for key, value in values.items()}
        failed = self._health.run("set_many", lambda: l2(self.alias).set_many(plain, timeout), DOWN)
        # Django's caches return the keys they could not store; django-redis returns
        # None when it stored them all.
        if failed is DOWN:
            self._health.remember(values)
        elif failed:
            self._health.remember(failed)
        if self.broadcast is not None:  # records only: derived entries are set by readers too
            self.broadcast.announce(key for key in values if is_record_key(key))

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if not keys:
            return  # nothing to send: no round trip
        self._local.pop_many(keys)

        def delete() -> bool:
            l2(self.alias).delete_many(keys)
            return True

        if not self._health.run("delete_many", delete, False):
            self._health.remember(keys)
        if self.broadcast is not None:
            self.broadcast.announce(keys)
