"""Answers from a record: ``exists``, ``size``, modified time, dimensions and URLs.

Each answer is what the wrapped storage would answer (``DESIGN.md``,
invariant 9). A name the storage refuses, or a fact the record cannot tell,
goes to the storage itself. A cached "missing" answers ``exists()`` only:
``size()`` and ``get_modified_time()`` of a missing name ask the storage, so
the error is exactly its own (and a stale "missing" is dropped).

Facts learned after the record was written (a modified time, dimensions read
Django's way) are kept beside it under its generation
(:mod:`ikstorage.records.entries`). URLs are memoized by spelling: public ones
for good, signed ones until ``url_expiry_margin`` before they expire
(invariant 4). The facade answers the warm page's ``url`` and dimensions
itself from L1 and calls here for the rest.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from ikstorage.core.names import Names, spelling
from ikstorage.core.parts import Parts
from ikstorage.core.policy import Policy
from ikstorage.core.reads import Reads
from ikstorage.imageinfo import Dimensions
from ikstorage.records import DimensionsEntry, ModifiedEntry, UrlEntry

__all__ = ["Answers"]


class Answers:
    """The memoized part of the ``Storage`` API, for one storage."""

    def __init__(self, parts: Parts, names: Names, reads: Reads, policy: Policy) -> None:
        self._parts = parts
        self._names = names
        self._reads = reads
        self._policy = policy

    def exists(self, name: Any) -> bool:
        stored = self._names.stored(name)
        if stored is None:
            return bool(self._parts.call("exists", name))
        return self._reads.record(stored, name).exists

    def size(self, name: Any) -> int:
        stored = self._names.stored(name)
        if stored is not None:
            record = self._reads.record(stored, name)
            if record.exists and record.size is not None:
                return record.size
            if not record.exists:
                return int(self._believed_missing("size", name))
        return int(self._parts.call("size", name))

    def modified(self, name: Any) -> datetime:
        stored = self._names.stored(name)
        if stored is None:
            return self._parts.call("get_modified_time", name)  # type: ignore[no-any-return]
        record = self._reads.record(stored, name)
        if not record.exists:
            return self._believed_missing("get_modified_time", name)  # type: ignore[no-any-return]
        adapter = self._parts.adapter
        if record.modified is not None:
            known = adapter.modified_from_plain(record.modified)
            if known is not None:
                return known
        key = self._parts.keys.modified(stored)
        entry = self._parts.cache.get(key)
        if isinstance(entry, ModifiedEntry) and entry.generation == record.generation:
            known = adapter.modified_from_plain(entry.modified)
            if known is not None:
                return known
        modified: datetime = self._parts.call("get_modified_time", name)
        timestamp = adapter.modified_to_plain(modified)
        if timestamp is not None:
            # Safe to ``set``: the entry is believed only beside this record generation.
            entry = ModifiedEntry(record.generation, timestamp)
            self._parts.cache.set(key, entry, self._policy.timeout)
        return modified

    def _believed_missing(self, method: str, name: Any) -> Any:
        """Ask the backend about a name recorded as missing; its error is the answer."""
        result = self._parts.call(method, name)
        self._reads.invalidate(name)  # it exists after all: the negative entry was stale
        return result

    def dimensions(self, name: Any) -> Dimensions | None:
        """``(width, height)`` as Django would compute it; ``None``: read the file Django's way.

        ``None`` for a name recorded as missing, so Django's own path raises its
        usual error, and for dimensions not determined yet.
        """
        stored = self._names.stored(name)
        if stored is None:
            return None
        record = self._reads.record(stored, name)
        if not record.exists:
            return None
        if record.dimensions_known:
            return record.dimensions
        entry = self._parts.cache.get(self._parts.keys.dimensions(stored))
        if isinstance(entry, DimensionsEntry) and entry.generation == record.generation:
            return entry.dimensions
        return None

    def remember_dimensions(self, name: Any, dimensions: Dimensions) -> None:
        """Keep dimensions read Django's way beside the record they belong to."""
        stored = self._names.stored(name)
        if stored is None:
            return
        record = self._reads.record(stored, name)
        if record.exists and not record.dimensions_known:
            entry = DimensionsEntry(record.generation, *dimensions)
            # Safe to ``set``: believed only beside this record generation.
            self._parts.cache.set(self._parts.keys.dimensions(stored), entry, self._policy.timeout)

    def url(self, name: Any) -> str:
        """The memoized URL of ``name`` (a ``str`` or a path), or a new one, remembered."""
        # A ``str`` through the memo: the facade's warm path finds it there next time.
        key = (
            self._names.of(name).url if type(name) is str else self._parts.keys.url(spelling(name))
        )
        entry = self._parts.cache.get(
            key, siblings=lambda: self._reads.siblings(*self._names.record_key(name))
        )
        margin = self._policy.url_expiry_margin
        if isinstance(entry, UrlEntry) and (
            entry.expires is None or entry.expires - margin > time.time()
        ):
            return entry.url
        lifetime = self._parts.adapter.url_lifetime()
        # Signers write the signing time in whole seconds, cut down (X-Amz-Date,
        # X-Goog-Date, a SAS's start): the URL expires up to a second before
        # ``time() + lifetime``, so it is counted from the whole second.
        now = float(math.floor(time.time()))
        url: str = self._parts.call("url", name)
        if lifetime is None:
            self._parts.cache.set(key, UrlEntry(url, None), None)
        elif lifetime > margin:
            self._parts.cache.set(key, UrlEntry(url, now + lifetime), lifetime - margin)
        return url

    def public_url(self, name: str) -> str | None:
        """The URL of ``name`` if the storage's URLs never expire, else ``None``.

        Straight from the storage: a rendition's public URL is kept in its
        source's record, not beside it.
        """
        if self._parts.adapter.url_lifetime() is not None:
            return None
        return str(self._parts.call("url", name))
