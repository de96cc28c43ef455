"""The read path: a name's record from L1, else L2 (with the page's other names), else one probe.

``record()`` is the lookup every answer starts from:

1. L1 (no round trip);
2. on an L1 miss, L2 in one ``get_many`` that also fetches the records and URLs
   of every name noted for this storage (:mod:`.batching`): a new process pays
   one round trip for a whole page;
3. on a miss in both, one backend probe (the adapter's cheapest call), shared
   by every thread asking at the same moment (:mod:`.singleflight`), and the
   record ``add``-ed, never ``set``: a read fill cannot overwrite the record a
   save or a delete wrote meanwhile (``DESIGN.md``, invariant 2).

A value in L2 that failed validation (invariant 16) is a miss too, but an
``add`` would never replace it, so every lookup would go back to the storage.
The fill replaces it instead, as a writer does: under the name's write lease
(taken without waiting), and only if L2 still holds an invalid value then. A
writer's record is written under that lease too, so a valid record written
meanwhile is never overwritten; a writer holding it will write its own.

A feature that may need the whole file besides the record (the renditions of
a source saved before ikstorage) asks :meth:`Reads.opened` instead: on a miss
the probe is one read of the whole file, stopped after the header unless the
feature, given the record, wants the rest (``Adapter.probe_open``).

The other reads here serve the features and tools: the shared cache's copy for
a lease holder (:meth:`Reads.fresh`), bulk lookups without a probe for
prewarming (:meth:`Reads.cached`), a probe and a store kept apart
(:meth:`Reads.probe`, :meth:`Reads.store`), and a view's ``prefetch``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.files import File

from ikstorage.backends.base import REFUSED_NAME
from ikstorage.backends.stream import Opened
from ikstorage.core import batching
from ikstorage.core.names import Names, spelling
from ikstorage.core.parts import Parts
from ikstorage.core.policy import Policy
from ikstorage.core.singleflight import SingleFlight
from ikstorage.lease import Lease, State
from ikstorage.records import Record

__all__ = ["Reads"]

#: Backend probes in progress in this process, by record key.
_flights: SingleFlight[Record] = SingleFlight()


class Reads:
    """Records for one storage (names are noted for it under its owner, see :mod:`.batching`)."""

    def __init__(self, parts: Parts, names: Names, policy: Policy) -> None:
        self._parts = parts
        self._names = names
        self._policy = policy

    def metadata(self, name: Any) -> Record:
        """The record for ``name``; the storage's own error for a name it refuses."""
        return self.record(self._names.canonical(name), name)

    def record(self, stored: str, name: Any) -> Record:
        """The record of the file stored as ``stored`` (asked for as ``name``)."""
        record = self._cached(stored, name)
        if isinstance(record, Record):
            return record
        # Concurrent askers in this process share one probe (single-flight).
        return _flights.do(self._parts.keys.record(stored), lambda: self._fill(stored, name))

    def opened(
        self, name: Any, wanted: Callable[[Record | None], bool]
    ) -> tuple[Record, Opened | None]:
        """The record of ``name`` as :meth:`metadata` finds it; a probe's read left open if wanted.

        When the record has to be probed, ``wanted(None)`` is asked first
        whether the file may be wanted at all (``False``: the ordinary probe).
        If so, the probe is one read of the whole file stopped after the
        header (``Adapter.probe_open``). Once the record is kept,
        ``wanted(record)`` says whether the rest of the file is needed: then
        the read is returned open, for the caller to finish or close. Not
        when the record could not be kept (another writer's is in the shared
        cache: the caller's record may be stale), nor to the askers who
        shared the probe (only the one who made it reads on).
        """
        stored = self._names.canonical(name)
        record = self._cached(stored, name)
        if isinstance(record, Record):
            return record, None
        held: list[Opened] = []
        fill = lambda: self._fill(stored, name, wanted=wanted, held=held)  # noqa: E731
        record = _flights.do(self._parts.keys.record(stored), fill)
        return record, (held[0] if held else None)

    def _cached(self, stored: str, name: Any) -> Record | object | None:
        """What L1, else L2 (with the page's other names, in one ``get_many``), holds."""
        keys, cache = self._parts.keys, self._parts.cache
        key = keys.record(stored)
        batch: list[str] = []

        def siblings() -> list[str]:  # called on an L1 miss only
            batch.extend(self.siblings(keys.url(spelling(name))))
            return batch

        record = cache.get(key, siblings=siblings)
        if batch and self._policy.renditions:
            self._fetch_rendition_urls([key, *batch])
        return record

    def siblings(self, *own: str) -> list[str]:
        """``own`` keys plus the records and URLs of the names noted for this storage.

        Called on an L1 miss: the ``get_many`` it feeds fetches the whole page
        (:mod:`.batching`) in the round trip this lookup makes anyway.
        """
        keys = list(own)
        for noted in batching.take(self._parts.owner):
            known = self._names.of(noted)
            if known.record is not None:
                keys.append(known.record)
            keys.append(known.url)
        return keys

    def _fetch_rendition_urls(self, keys: list[str]) -> None:
        """The URLs of the renditions that the records just fetched list, in one ``get_many``.

        A record holds its renditions' public URLs; signed ones expire, so they are
        cached apart. Fetched here, right after the page's records arrived, a page of
        thumbnails in a new process costs one round trip more, not one per rendition.
        """
        cache, url_key = self._parts.cache, self._parts.keys.url
        wanted: list[str] = []
        for key in keys:
            record = cache.local(key)
            if isinstance(record, Record):
                for info in record.renditions:
                    if info.url is None:
                        found = url_key(info.name)
                        if cache.peek(found) is None:
                            wanted.append(found)
        if wanted:
            cache.get_many(wanted)

    def _fill(
        self,
        stored: str,
        name: Any,
        *,
        wanted: Callable[[Record | None], bool] | None = None,
        held: list[Opened] | None = None,
    ) -> Record:
        """Probe the backend for ``name`` and keep the record (a read fill never overwrites).

        With ``wanted``, the probe's read stays open while ``wanted`` decides,
        and is put in ``held`` if it wants the rest (see :meth:`opened`).
        """
        key = self._parts.keys.record(stored)
        known = self._parts.cache.local(key)  # filled by a flight that ended just before ours
        if isinstance(known, Record):
            return known
        adapter = self._parts.adapter
        if wanted is None or held is None or not wanted(None):
            record = Record.of(adapter.probe(name))
            self._keep(stored, record)
            return record
        source = adapter.probe_open(name)
        try:
            record = Record.of(source.facts)
            if self._keep(stored, record) and wanted(record):
                held.append(source)  # the caller's now, to read on or close
                return record
        except BaseException:
            source.close()
            raise
        source.close()
        return record

    def _keep(self, stored: str, record: Record) -> bool:
        """``add`` ``record``, or replace the invalid value L2 was found holding.

        ``True`` if it was stored. The invalid value was read before the probe
        began, so what the probe learned is no older than it.
        """
        cache, key = self._parts.cache, self._parts.keys.record(stored)
        timeout = self._policy.lifetime(record.exists)
        if not cache.invalid(key):
            return cache.add(key, record, timeout)
        # A holder of the lease (a save, a delete, a render) writes its own record.
        lease = self.lease(stored, wait=0)
        if lease.state is not State.HELD:
            return False
        try:
            current = cache.fresh(key)  # what writers left before the lease was ours
            if isinstance(current, Record) or not lease.still_held:
                return False
            if cache.invalid(key):
                cache.set(key, record, timeout)
                return True
            return cache.add(key, record, timeout)  # gone meanwhile: a plain fill
        finally:
            lease.release()

    def lease(self, stored: str, *, wait: float | None = None) -> Lease:
        """The write lease of one stored name, after waiting up to ``wait`` seconds for it.

        ``wait`` defaults to ``write_lease_timeout``. Check ``Lease.state``: the
        lease may be unavailable (no cache) or timed out (another holder).
        """
        ttl = self._policy.write_lease_timeout
        lease = Lease(self._parts.cache, self._parts.keys.lease(stored), ttl=ttl)
        lease.acquire(wait=ttl if wait is None else wait)
        return lease

    def fresh(self, name: Any) -> Record:
        """The record of ``name`` as the shared cache holds it (or probed), L1 skipped.

        For a holder of the name's lease, which must see what other processes
        wrote before it took the lease.
        """
        stored = self._names.canonical(name)
        record = self._parts.cache.fresh(self._parts.keys.record(stored))
        if isinstance(record, Record):
            return record
        return self._fill(stored, name)

    def shared(self, stored: str) -> Record | None:
        """What the shared cache holds for the file stored as ``stored`` (L1 skipped, no probe)."""
        found = self._parts.cache.fresh(self._parts.keys.record(stored))
        return found if isinstance(found, Record) else None

    def cached(self, names: Iterable[str]) -> dict[str, Record]:
        """The records the cache levels hold for ``names``, in one ``get_many``; no backend call.

        Names nobody recorded (or that the storage would refuse) are absent from
        the result. Not through the page's name memo: a prewarm walks millions of names.
        """
        adapter, keys = self._parts.adapter, self._parts.keys
        wanted: dict[str, list[str]] = {}
        for name in names:
            try:
                stored = adapter.canonical(name)
            except REFUSED_NAME:
                continue
            wanted.setdefault(keys.record(stored), []).append(name)
        found = self._parts.cache.get_many(list(wanted))
        return {
            name: entry
            for key, entry in found.items()
            if isinstance(entry, Record)
            for name in wanted[key]
        }

    def probe(self, name: str) -> Record:
        """Ask the backend everything cacheable about ``name``; nothing is stored.

        Concurrent probes of one name in this process share one backend call.
        """
        key = self._parts.keys.record(self._names.canonical(name))
        return _flights.do(("probe", key), lambda: Record.of(self._parts.adapter.probe(name)))

    def store(self, name: str, record: Record, *, replace: bool = False) -> bool:
        """Keep ``record`` as what is known about ``name``; ``True`` if it was stored.

        A fill (``replace=False``) uses ``add``: it never overwrites a record a
        save or delete wrote meanwhile (invariant 2), and returns ``False`` then.
        ``replace=True`` overwrites: for a holder of the name's write lease only
        (``ikstorage_prewarm --refresh`` repairing records after files changed
        behind ikstorage's back; a render writing what it made), so no write
        of the name can land in between. A value that fails validation is
        replaced either way (see :meth:`_keep`).
        """
        stored = self._names.canonical(name)
        if replace:
            key = self._parts.keys.record(stored)
            self._parts.cache.set(key, record, self._policy.lifetime(record.exists))
            return True
        return self._keep(stored, record)

    def invalidate(self, name: Any) -> None:
        """Forget everything cached about ``name``, in L2 and in this process."""
        keys = [self._parts.keys.url(spelling(name)), *self._names.facts_of([name])]
        self._parts.cache.delete_many(keys)

    def prefetch(self, files: Iterable[str | File[Any] | None]) -> None:
        """Load the records and URLs of many files into this process in one round trip."""
        found: list[str] = []
        keys = self._parts.keys
        for item in files:
            name = item if isinstance(item, str) else getattr(item, "name", None)
            stored = self._names.stored(name) if name else None
            if stored is not None:
                found += [keys.record(stored), keys.url(spelling(name))]
        if found:
            self._parts.cache.get_many(found)
