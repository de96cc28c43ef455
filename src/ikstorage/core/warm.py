"""The warm page's answers: a public URL and an image's dimensions, one dictionary read each.

A warm page asks each image's ``url``, ``width`` and ``height``. Read from L1
the way every other lookup is, one answer walks six objects: the name memo's
entry, its key, L1's dictionary slot, the ``(entry, expires)`` item, the entry,
and the value. In a tight loop that is about 0.5 µs; inside a page, where the
template engine's own allocations push those objects out of the processor's
caches between one image and the next, it measured 1.5 µs per answer, 7 % of
a 100-image page (``benchmarks/page.py``).

So the first warm read of a name also keeps the answer itself in a table of
this storage, ``name -> (expires, answer)``, which the facade reads first:
two objects instead of six. The table is never a cache of its own: an answer
is put there only through :meth:`~ikstorage.cache.local.LocalCache.derive`,
which registers it against the L1 key it came from, and every change to that
key (a write in this process, a drop on another process's word, an
invalidation, an eviction, a clear) removes it under L1's lock. Its expiry is
the L1 entry's. What the table answers is therefore exactly what L1 would,
and a miss here is only the longer walk below.
"""

from __future__ import annotations

from typing import Any

from ikstorage import metrics
from ikstorage.cache.local import LocalCache, now
from ikstorage.core.names import Names
from ikstorage.imageinfo import Dimensions
from ikstorage.records import Record, UrlEntry

__all__ = ["Warm"]


class Warm:
    """One storage's tables of answers derived from live L1 entries, and how they fill."""

    def __init__(self, names: Names, local: LocalCache[Any]) -> None:
        self._memo = names.memo
        self._local = local
        #: ``str`` spelling -> ``(expires, url)``: public URLs only (no expiry of their own).
        self.urls: dict[str, tuple[float, str]] = {}
        #: ``str`` spelling -> ``(expires, (width, height))`` of an existing file's record.
        self.dimensions: dict[str, tuple[float, Dimensions]] = {}

    def url(self, name: str) -> str | None:
        """The public URL L1 holds for ``name`` (kept in :attr:`urls`), or ``None``."""
        known = self._memo.get(name)
        if known is None:
            return None
        item = self._local.item(known.url)
        if item is None or item[1] <= now():
            return None
        entry = item[0]
        if type(entry) is not UrlEntry or entry.expires is not None:
            return None
        self._local.derive(known.url, item, self.urls, name, (item[1], entry.url))
        _l1_hit()
        return entry.url

    def size(self, name: str) -> Dimensions | None:
        """``(width, height)`` from the record L1 holds for ``name`` (kept), or ``None``."""
        known = self._memo.get(name)
        if known is None or known.record is None:
            return None
        item = self._local.item(known.record)
        if item is None or item[1] <= now():
            return None
        record = item[0]
        if type(record) is not Record or not record.exists or not record.dimensions_known:
            return None
        dimensions = (record.width, record.height)
        self._local.derive(known.record, item, self.dimensions, name, (item[1], dimensions))
        _l1_hit()
        return dimensions

    def forget(self) -> None:
        """Drop every kept answer in place (a setting changed what names resolve to)."""
        self.urls.clear()
        self.dimensions.clear()


def _l1_hit() -> None:
    """Tell the profiler an answer came from L1 (as the facade does for a table's answer)."""
    if metrics.sinks.current:
        metrics.cache("l1", 1, 0)
