"""Two cache levels: an in-process dictionary (L1) in front of a Django cache (L2).

L1 answers repeated lookups in one process without a network round trip; it
is a :class:`ikstorage.memory.LocalCache`, so each entry expires on its own
clock (never later than its L2 entry, never later than the L1 timeout) and a
warm read takes no lock. L2 is any
Django cache alias and is what new processes share.

L2 is an optimisation, never a dependency: every L2 call goes through
:meth:`_Health.run`, which turns a cache *outage* (a connection failure or a
timeout, see :mod:`ikstorage.cache_errors`) into a miss (reads) or a no-op
(writes), logs a rate-limited warning, leaves the cache alone for
``IKSTORAGE_CACHE_RETRY_AFTER`` seconds and then tries again by itself. Keys
whose write-through or invalidation could not reach L2 during an outage are
remembered and deleted from L2 first thing after it recovers, so a record
that changed during the outage is not served stale afterwards. Any other
error (a missing client library, a bad setting) is a configuration mistake
and raises at once, with a message saying what to install or change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.core.cache import caches

from ikstorage import cache_errors, metrics
from ikstorage.conf import conf
from ikstorage.memory import LocalCache
from ikstorage.records import Entry, decode, is_record_key

logger = logging.getLogger("ikstorage.cache")

T = TypeVar("T")

#: Keys remembered for deletion after an outage; beyond this we can only warn.
MAX_PENDING = 10_000


class _Health:
    """Failure state of one L2 alias, shared by every storage using it.

    Only an outage (see :func:`ikstorage.cache_errors.is_outage`: a refused or
    dropped connection, a timeout) is ridden out. Any other error is a mistake
    that riding out would hide for good, so it is raised at once: rewritten
    into a :class:`~ikstorage.exceptions.ConfigurationError` that says what to
    fix when recognised, unchanged otherwise.
    """

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.down_until = 0.0
        self.last_warning = 0.0
        self.suppressed = 0
        self.pending: set[str] = set()
        self.overflowed = False
        self.settings_checked = False

    def run(self, operation: str, call: Callable[[], T], default: T) -> T:
        """Run one L2 call; on an outage return ``default`` and back off."""
        if self.down_until and time.monotonic() < self.down_until:
            return default
        if not self.settings_checked:
            # Read (so validate) the outage settings on first use: a bad value
            # must fail the first lookup, not the first outage.
            conf.CACHE_RETRY_AFTER, conf.WARNING_INTERVAL  # noqa: B018
            self.settings_checked = True
        try:
            if self.pending and not self._flush():
                return default
            metrics.round_trip(operation)
            result = call()
        except Exception as exc:
            self.raise_unless_outage(exc)
            self.failed(operation, exc)
            return default
        self.down_until = 0.0
        return result

    def raise_unless_outage(self, exc: Exception) -> None:
        """Return for an outage; raise anything else, with guidance when recognised."""
        if cache_errors.is_outage(exc):
            return
        problem = cache_errors.explain(self.alias, exc)
        if problem is None:
            raise exc
        raise problem from exc

    def _flush(self) -> bool:
        """Settle the keys whose change L2 missed during an outage, before anything else.

        A record key gets a short-lived *blocker* rather than a plain delete: a
        reader whose probe began before the outage's write must not ``add`` its
        stale "exists" back (fills never overwrite). Readers meanwhile treat the
        blocker as a miss and ask the storage. Other keys (URLs, leases) are
        deleted.
        """
        with self.lock:
            keys, self.pending = list(self.pending), set()
            overflowed, self.overflowed = self.overflowed, False
        records = [key for key in keys if is_record_key(key)]
        others = [key for key in keys if not is_record_key(key)]
        try:
            cache = l2(self.alias)
            if records:
                metrics.round_trip("set_many")
                cache.set_many(dict.fromkeys(records, BLOCKER), BLOCKER_TIMEOUT)
            if others:
                metrics.round_trip("delete_many")
                cache.delete_many(others)
        except Exception as exc:
            # Whatever went wrong, these keys still must be dropped later.
            self.remember(keys)
            if overflowed:
                with self.lock:
                    self.overflowed = True
            self.raise_unless_outage(exc)
            self.failed("delete_many", exc)
            return False
        logger.warning(
            "Cache %r is back; dropped %d record(s) that changed while it was unavailable.%s",
            self.alias,
            len(keys),
            " Some changes were not tracked; records may be stale until they expire."
            if overflowed
            else "",
        )
        return True

    def remember(self, keys: Iterable[str]) -> None:
        """Keys whose newest state could not be written: drop them from L2 on recovery."""
        with self.lock:
            for key in keys:
                if len(self.pending) >= MAX_PENDING:
                    self.overflowed = True
                    break
                self.pending.add(key)

    def failed(self, operation: str, exc: Exception) -> None:
        """An outage: leave the cache alone for a while and warn, at most once per interval."""
        retry_after, interval = conf.CACHE_RETRY_AFTER, conf.WARNING_INTERVAL
        now = time.monotonic()
        self.down_until = now + retry_after
        with self.lock:
            if now - self.last_warning < interval and self.last_warning:
                self.suppressed += 1
                return
            suppressed, self.suppressed, self.last_warning = self.suppressed, 0, now
        logger.warning(
            "Cache %r unavailable (%s: %s: %s); answering from the storage and retrying in %gs.%s",
            self.alias,
            operation,
            type(exc).__name__,
            exc,
            retry_after,
            f" ({suppressed} similar warning(s) suppressed)" if suppressed else "",
        )


#: What ``run`` returns when L2 was not reached (distinct from any cache's own answer).
_DOWN: Any = object()
#: Written over a record that changed while L2 was down; decodes as no record.
BLOCKER: dict[str, Any] = {"v": "blocked"}
#: Seconds a blocker lives: longer than a slow reader's probe, as a tombstone does.
BLOCKER_TIMEOUT = 60


def l2(alias: str) -> Any:
    """The object ikstorage calls for ``caches[alias]``: the cache, or one that raises.

    django-redis with ``IGNORE_EXCEPTIONS`` turns every connection error into a
    silent miss, so the breaker would never open (each lookup waits out its
    own timeout) and a delete made during an outage would be lost. Its client
    (``cache.client``, the same methods without the swallowing decorator)
    raises ``ConnectionInterrupted`` instead, which is an outage here.
    """
    cache = caches[alias]
    if type(cache).__module__.startswith("django_redis") and hasattr(cache, "client"):
        return cache.client
    return cache


class _Absent:
    """L1's note that L2 had nothing for a key: the next lookup skips the round trip."""

    def to_plain(self) -> dict[str, Any]:  # pragma: no cover - never written to L2
        raise TypeError("the absent marker is never stored in L2")


ABSENT = _Absent()


class _Tried:
    """L1's note that this process already made an ``add_raw_once`` for a key."""

    def to_plain(self) -> dict[str, Any]:  # pragma: no cover - never written to L2
        raise TypeError("the tried marker is never stored in L2")


TRIED = _Tried()

_lock = threading.Lock()
_health: dict[str, _Health] = {}
_local: dict[str, LocalCache[Entry]] = {}


def _shared(alias: str, maxsize: int) -> tuple[_Health, LocalCache[Entry]]:
    with _lock:
        if alias not in _health:
            _health[alias] = _Health(alias)
            _local[alias] = LocalCache(maxsize)
        return _health[alias], _local[alias]


def clear_local() -> None:
    """Forget every in-process entry and outage state (tests, settings changes).

    Cleared in place: storages built earlier keep using the same objects.
    """
    with _lock:
        for local in _local.values():
            local.clear()
        for health in _health.values():
            health.reset()


class MetadataCache:
    """The two levels for one storage: L1 shared per alias in the process, then L2."""

    def __init__(self, alias: str, *, local_timeout: float, local_maxsize: int) -> None:
        self.alias = alias
        self.local_timeout = local_timeout
        self._health, self._local = _shared(alias, local_maxsize)
        #: L1's raw read: the entry, ``ABSENT`` (L2 had nothing), or ``None``.
        self.local_get = self._local.get

    # -- L1 -------------------------------------------------------------------

    def local(self, key: str) -> Entry | None:
        """The entry this process holds for ``key`` (L1 only, no round trip)."""
        value = self._local.get(key)
        return None if value is ABSENT else value

    def _local_get(self, key: str) -> Entry | None:
        return self._local.get(key)

    def _local_set(self, key: str, value: Entry, timeout: float | None) -> None:
        ttl = self.local_timeout if timeout is None else min(timeout, self.local_timeout)
        # ttl <= 0 means "do not keep": an older entry must not outlive this write.
        self._local.set(key, value, ttl)

    def _local_drop(self, keys: Iterable[str]) -> None:
        self._local.pop_many(keys)

    # -- both levels ----------------------------------------------------------

    def get(
        self, key: str, *, siblings: Callable[[], Iterable[str]] | Iterable[str] = ()
    ) -> Entry | None:
        """One entry; on an L1 miss, fetch ``siblings`` from L2 in the same round trip.

        ``siblings`` may be a function, called only on an L1 miss: a warm lookup
        then pays nothing to name them.
        """
        value = self._local_get(key)
        if value is not None:
            metrics.cache("l1", 1, 0)
            return None if value is ABSENT else value
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
            value = self._local_get(key)
            if value is None:
                wanted.append(key)
                continue
            known += 1
            if value is not ABSENT:
                found[key] = value
        metrics.cache("l1", known, len(wanted))
        if not wanted:
            return found
        # Siblings this process already holds are not asked again (nor overwritten).
        fetch = wanted + [k for k in siblings if k not in wanted and self._local_get(k) is None]
        remote: dict[str, Any] = self._health.run(
            "get_many", lambda: l2(self.alias).get_many(fetch), {}
        )
        hits = 0
        for key in fetch:
            entry = decode(key, remote[key]) if key in remote else None
            # L2 does not tell us its remaining TTL; the L1 timeout bounds staleness.
            # A key L2 lacks is noted too, so the fill that follows (or the page
            # after a prefetch) does not ask L2 again; an absent entry never
            # answers anything, it only sends the lookup to the backend.
            self._local_set(key, ABSENT if entry is None else entry, None)
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
        self._local_drop([key])
        return self.get_many([key]).get(key)

    def add(self, key: str, value: Entry, timeout: float | None) -> bool:
        """Fill after a read: never overwrites a newer value another writer put in L2.

        ``False`` when L2 already held a value (this one was not stored).
        """
        plain = value.to_plain()
        added = self._health.run("add", lambda: l2(self.alias).add(key, plain, timeout), None)
        if added is not False:
            # Stored, or L2 unavailable: what we just read from the backend is the
            # best answer this process has.
            self._local_set(key, value, timeout)
            return True
        # L2 holds a newer value: leave L1 empty so the next lookup reads it.
        self._local_drop([key])
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
        if self._local_get(key) is TRIED:
            return False
        added = self.add_raw(key, value, timeout)
        self._local_set(key, TRIED, timeout)
        return added

    def set(self, key: str, value: Entry, timeout: float | None) -> None:
        """Write-through after our own write succeeded on the backend."""
        self.set_many({key: value}, timeout)

    def set_many(self, values: Mapping[str, Entry], timeout: float | None) -> None:
        for key, value in values.items():
            self._local_set(key, value, timeout)
        plain = {key: value.to_plain() for key, value in values.items()}
        failed = self._health.run(
            "set_many", lambda: l2(self.alias).set_many(plain, timeout), _DOWN
        )
        # Django's caches return the keys they could not store; django-redis returns
        # None when it stored them all.
        if failed is _DOWN:
            self._health.remember(values)
        elif failed:
            self._health.remember(failed)

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if not keys:
            return  # nothing to send: no round trip
        self._local_drop(keys)

        def delete() -> bool:
            l2(self.alias).delete_many(keys)
            return True

        if not self._health.run("delete_many", delete, False):
            self._health.remember(keys)
