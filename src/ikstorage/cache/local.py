"""L1: the in-process level, shared by every storage using one cache alias.

A warm page asks L1 three times per image, so its read path is the product's
hot path. It is a plain ``dict`` of ``key -> (entry, expires)`` read without a
lock — one dictionary lookup and one clock read — with per-entry expiry (never
later than the entry's L2 lifetime, never later than ``local_timeout``).
Writes take a lock. When the dictionary is full, expired entries go first,
then the oldest-written tenth.

Why not ``cachetools.TLRUCache`` (which this level used before): it reorders
its entries on every hit, so every read needs a lock, and on a warm page that
lock and the reordering cost more than the lookup itself (1.4 µs of a 1.7 µs
L1 hit, measured in ``benchmarks/page.py``). Eviction by write order instead
of use order is the price, and a small one: entries live ``local_timeout``
(60 s) at most anyway.

Entries dropped on another process's word (:mod:`.broadcast`) are noted with
the count of drops so far, so a read that was on its way to L2 while one
arrived does not put back what it fetched before the drop
(:meth:`LocalCache.dropped_since`).

An answer derived from one entry (a public URL, an image's dimensions; see
:mod:`ikstorage.core.warm`) may be kept in a caller's table while that entry
stands (:meth:`LocalCache.derive`): every change to the entry's key — a write,
a drop, a removal, an eviction, a clear — takes the derived answer out of its
table under the same lock, so the table never answers what L1 no longer holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any, Generic, TypeVar

__all__ = ["LocalCache", "now"]

V = TypeVar("V")

#: L1's clock: an entry is live while its expiry is later than ``now()``.
now = time.monotonic


class LocalCache(Generic[V]):
    """``key -> value`` with per-entry expiry; reads never block."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: dict[str, tuple[V, float]] = {}
        self._lock = threading.Lock()
        #: Drops on another process's word (and clears) so far: a clock for in-flight reads.
        self.drops = 0
        self._dropped: dict[str, int] = {}
        #: Reads begun before this drop count treat every key as dropped.
        self._floor = 0
        #: The raw read: ``(value, expires)`` or ``None``, expired or not. For the warm
        #: paths, which believe an item only while ``expires > now()`` and otherwise
        #: go on to :meth:`get` (one call frame less on a page's every lookup).
        self.item: Callable[[str], tuple[V, float] | None] = self._data.get
        #: key -> the (table, name) pairs holding an answer derived from its entry.
        self._derived: dict[str, list[tuple[dict[str, Any], str]]] = {}

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str) -> V | None:
        """The live value for ``key``, or ``None``."""
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] > now():
            return item[0]
        with self._lock:  # expired: drop it unless a newer write replaced it meanwhile
            if self._data.get(key) is item:
                del self._data[key]
                self._underive(key)
        return None

    def set(self, key: str, value: V, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds; ``ttl <= 0`` drops any older value instead."""
        with self._lock:
            self._data.pop(key, None)  # re-inserted last: the newest write
            self._underive(key)
            if ttl <= 0:
                return
            if len(self._data) >= self.maxsize:
                self._evict()
            self._data[key] = (value, now() + ttl)

    def pop_many(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._data.pop(key, None)
                self._underive(key)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            for key in list(self._derived):
                self._underive(key)
            self._forget_drops()

    def derive(
        self, key: str, item: tuple[V, float], table: dict[str, Any], name: str, answer: Any
    ) -> None:
        """Keep ``table[name] = answer`` while ``key`` holds ``item`` (read by :attr:`item`).

        Nothing is kept if ``key`` changed since ``item`` was read; any later
        change to ``key`` removes it. The answer carries its own expiry, never
        later than ``item``'s, which its reader checks.
        """
        with self._lock:
            if self._data.get(key) is item:
                table[name] = answer
                self._derived.setdefault(key, []).append((table, name))

    def drop(self, keys: Iterable[str]) -> None:
        """Forget ``keys`` because another process changed them; reads in flight are told."""
        with self._lock:
            self.drops += 1
            for key in keys:
                self._data.pop(key, None)
                self._underive(key)
                self._dropped[key] = self.drops
            if len(self._dropped) > self.maxsize:
                self._forget_drops()

    def dropped_since(self, key: str, mark: int) -> bool:
        """True if ``key`` may have been dropped after :attr:`drops` was ``mark``.

        What a read fetched before such a drop is older than the change announced:
        it is answered once, not kept.
        """
        return mark < self._floor or self._dropped.get(key, 0) > mark

    def after_fork(self) -> None:
        """In a forked child: a new lock (the parent's may have been held) and nothing kept."""
        self._lock = threading.Lock()
        self.clear()

    def _forget_drops(self) -> None:
        """Under the lock: every read in flight now treats all its keys as dropped."""
        self.drops += 1
        self._dropped.clear()
        self._floor = self.drops

    def _underive(self, key: str) -> None:
        """Under the lock: ``key`` changed or went; the answers derived from it go too."""
        derived = self._derived.pop(key, None)
        if derived:
            for table, name in derived:
                table.pop(name, None)

    def _evict(self) -> None:
        """Called full, under the lock: expired entries first, then the oldest tenth."""
        moment = now()
        data = self._data
        for key in [k for k, (_, expires) in data.items() if expires <= moment]:
            del data[key]
            self._underive(key)
        if len(data) >= self.maxsize:
            for key in list(islice(data, max(1, self.maxsize // 10))):
                del data[key]
                self._underive(key)
