"""The shared cache's health: an outage is ridden out, a mistake is raised.

L2 is an optimisation, never a dependency (``DESIGN.md``, invariant 5): every
L2 call goes through :meth:`Health.run`, which turns a cache *outage* (a
connection failure or a timeout, see :mod:`.errors`) into a miss (reads) or a
no-op (writes), logs a rate-limited warning, leaves the cache alone for
``IKSTORAGE_CACHE_RETRY_AFTER`` seconds and then tries again by itself. Keys
whose write-through or invalidation could not reach L2 during an outage are
remembered and settled first thing after it recovers, so a record that
changed during the outage is not served stale afterwards. Any other error (a
missing client library, a bad setting) is a configuration mistake and raises
at once, with a message saying what to install or change.

One :class:`Health` per cache alias, shared by every storage using it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import caches

from ikstorage import metrics
from ikstorage.cache import errors
from ikstorage.conf import conf
from ikstorage.records import is_record_key

__all__ = ["BLOCKER", "BLOCKER_TIMEOUT", "DOWN", "MAX_PENDING", "Health", "l2"]

#: The logger every cache warning goes to (a project filters or routes it by this name).
logger = logging.getLogger("ikstorage.cache")

T = TypeVar("T")

#: Keys remembered for deletion after an outage; beyond this we can only warn.
MAX_PENDING = 10_000
#: What ``run`` returns when L2 was not reached (distinct from any cache's own answer).
DOWN: Any = object()
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


class Health:
    """Failure state of one L2 alias, shared by every storage using it.

    Only an outage (see :func:`ikstorage.errors.is_outage`: a refused or
    dropped connection, a timeout) is ridden out. Any other error is a mistake
    that riding out would hide for good, so it is raised at once: rewritten
    into a :class:`~ikstorage.exceptions.ConfigurationError` that says what to
    fix when recognised, unchanged otherwise.
    """

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.lock = threading.Lock()
        #: Told the keys settled after an outage (the broadcast announces them).
        self.settled: Callable[[list[str]], None] | None = None
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
        if errors.is_outage(exc):
            return
        problem = errors.explain(self.alias, exc)
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
        if self.settled is not None:
            self.settled(keys)
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
