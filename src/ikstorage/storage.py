"""``CachedStorage``: any Django storage, with its metadata remembered.

Every method of the ``Storage`` API is delegated to the wrapped storage.
``exists``, ``size``, ``url``, ``get_modified_time`` and image dimensions are
answered from a metadata record kept in two cache levels (see
:mod:`ikstorage.cache`); the first lookup of a name fills its record with the
backend's cheapest probe (see :mod:`ikstorage.backends`).

Correctness rules (``DESIGN.md``, invariants 1 to 5 and 9 to 11):

* One stored file has one record: records are keyed by the name the wrapped
  storage stores the file under (``Adapter.canonical``), however it is spelled.
  A name the storage would refuse (``None``, traversal) goes straight to the
  storage, so its error is the storage's own.
* ``save`` and ``delete`` hold a short per-name lease in the shared cache
  (:mod:`ikstorage.lease`) around the backend write and the record write, so
  the record left behind is the one of the write the storage kept. ``save``
  writes the record through only after the backend succeeded, with the size
  and dimensions measured from the bytes saved (:mod:`ikstorage.uploads`);
  ``delete`` leaves a short-lived tombstone; read fills use ``add`` so they
  never overwrite a newer record; a failed backend call removes whatever was
  cached for the name.
* Choosing a free name (``get_available_name``) always asks the wrapped
  storage: a cached "missing" never lets a save overwrite an existing file.
* A cached "missing" answers ``exists()`` only. ``size()``, ``get_modified_time()``
  and dimensions of a missing name go to the backend, so errors are exactly
  the wrapped storage's own.
* Public attributes the class does not define (``bucket_name``, ``location``,
  ``base_url``...) are read from the wrapped storage, as Django's
  ``default_storage`` proxy does; setting one is an error naming that storage.
"""

from __future__ import annotations

import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from ikstorage import batching, metrics, uploads
from ikstorage.backends import Adapter, adapter_for
from ikstorage.bypass import bypass_cache, bypassed
from ikstorage.cache import MetadataCache
from ikstorage.exceptions import CacheConfigurationError, ConfigurationError
from ikstorage.imageinfo import Dimensions
from ikstorage.lease import Lease
from ikstorage.options import Options, parse
from ikstorage.records import (
    DimensionsEntry,
    Keys,
    ModifiedEntry,
    Record,
    RenditionInfo,
    UrlEntry,
)
from ikstorage.renditions import lookup as rendition_lookup
from ikstorage.renditions import saving as rendition_saving
from ikstorage.renditions.lookup import Rendition
from ikstorage.singleflight import SingleFlight

__all__ = ["CachedStorage", "bypass_cache"]

#: Every CachedStorage alive, so a settings change (tests) resets what was derived.
_live: weakref.WeakSet[CachedStorage] = weakref.WeakSet()
#: Backend probes in progress in this process, by record key.
_flights: SingleFlight[Record] = SingleFlight()


def settings_changed(setting: str) -> None:
    """Forget what each storage derived from settings (``setting_changed`` receiver)."""
    for storage in list(_live):
        storage._forget_derived(setting)


def _rebuild(args: tuple[Any, ...], kwargs: dict[str, Any]) -> CachedStorage:
    return CachedStorage(*args, **kwargs)


class _Name(NamedTuple):
    """What a name spelling resolves to, memoized: a warm page asks about each name thrice."""

    #: The name the storage stores the file under; ``None`` when it refuses the name.
    stored: str | None
    #: The record key (of ``stored``), ``None`` with it.
    record: str | None
    #: The URL key (of the spelling: URLs depend on it).
    url: str


def _nothing(key: str) -> None:
    return None


def _spelling(name: Any) -> str:
    """The name as the caller spelled it (URLs depend on the spelling, not the file)."""
    return str(os.fspath(name))


@deconstructible(path="ikstorage.CachedStorage")
class CachedStorage(Storage):
    """A ``Storage`` that wraps another and memoizes its metadata.

    ``storage`` is a ``STORAGES`` alias, a ``{"BACKEND": ..., "OPTIONS": ...}``
    dict, or a ``Storage`` instance; it is built on first use, so settings may
    name aliases in any order. ``cache`` is a ``CACHES`` alias. The other
    options are listed in ``docs/settings.md``.
    """

    #: Tells :mod:`ikstorage.fieldfiles` to note names bound for this storage.
    ikstorage_batches = True

    def __init__(self, storage: Any = None, cache: str = "default", **options: Any) -> None:
        self._options = parse({"storage": storage, "cache": cache, **options})
        self._lock = threading.Lock()
        self._wrapped: Storage | None = None
        self._adapter: Adapter | None = None
        self._keys: Keys | None = None
        self._cache: MetadataCache | None = None
        self._names: dict[str, _Name] = {}
        #: L1's read, bound once the cache is built (the warm page's only lookup).
        self._l1_get: Callable[[str], Any] = _nothing
        _live.add(self)

    def __reduce__(self) -> tuple[Any, ...]:
        args, kwargs = self._constructor_args
        return (_rebuild, (args, kwargs))

    def __repr__(self) -> str:
        options: Options | None = self.__dict__.get("_options")
        if options is None:
            return "<CachedStorage>"
        return f"<CachedStorage of {options.storage!r} in cache {options.cache!r}>"

    # -- the wrapped storage's attributes ---------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only reached for names this class does not define: ``bucket_name``,
        # ``location``, ``querystring_auth``... are the wrapped storage's.
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(self.wrapped, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and not hasattr(type(self), name):
            wrapped = self.wrapped
            if hasattr(wrapped, name):
                raise AttributeError(
                    f"{name!r} belongs to the wrapped storage {type(wrapped).__name__} "
                    f"({wrapped!r}); CachedStorage only reads it. Set it there: "
                    f"storage.wrapped.{name} = ..., or in that storage's OPTIONS."
                )
        super().__setattr__(name, value)

    # -- options ------------------------------------------------------------------

    @property
    def options(self) -> Options:
        """The validated OPTIONS."""
        return self._options

    @property
    def cache_alias(self) -> str:
        return self._options.cache

    @property
    def timeout(self) -> float | None:
        return self._options.timeout

    @property
    def missing_timeout(self) -> float:
        return self._options.missing_timeout

    @property
    def url_expiry_margin(self) -> float:
        return self._options.url_expiry_margin

    @property
    def probe_limit(self) -> int:
        return self._options.probe_limit

    # -- the wrapped storage and its helpers, built on first use ---------------

    @property
    def wrapped(self) -> Storage:
        """The storage that holds the files."""
        if self._wrapped is None:
            with self._lock:
                if self._wrapped is None:
                    self._wrapped = self._build_wrapped()
        return self._wrapped

    def _build_wrapped(self) -> Storage:
        from django.core.files.storage import InvalidStorageError, storages

        spec = self._options.storage
        if isinstance(spec, Storage):
            return spec
        if isinstance(spec, str):
            try:
                built = storages[spec]
            except InvalidStorageError:
                raise ConfigurationError(
                    f"CachedStorage 'storage' names {spec!r}, which is not an alias in "
                    f"settings.STORAGES (aliases: {', '.join(sorted(storages.backends))})."
                ) from None
            if built is self:
                raise ConfigurationError(
                    f"CachedStorage 'storage' names {spec!r}, the alias of this storage itself."
                )
            return built
        if "BACKEND" not in spec:
            raise ConfigurationError(
                "CachedStorage 'storage' dict needs a 'BACKEND' key "
                "(and optionally 'OPTIONS'), as an entry of settings.STORAGES does."
            )
        return storages.create_storage(dict(spec))

    def _forget_derived(self, setting: str) -> None:
        """A setting changed: the storage's location, URL or alias may be another now."""
        self._adapter = None
        self._keys = None
        self._names = {}
        if setting == "STORAGES" and isinstance(self._options.storage, str):
            self._wrapped = None

    @property
    def adapter(self) -> Adapter:
        adapter = self._adapter
        if adapter is None:
            adapter = self._adapter = adapter_for(
                self.wrapped,
                probe_bytes=self._options.probe_bytes,
                probe_limit=self._options.probe_limit,
            )
        return adapter

    @property
    def keys(self) -> Keys:
        keys = self._keys
        if keys is None:
            identity = self.adapter.identity()
            if isinstance(self._options.storage, str):
                identity += f"|alias={self._options.storage}"
            keys = self._keys = Keys(identity)
        return keys

    @property
    def cache(self) -> MetadataCache:
        if self._cache is None:
            alias = self._options.cache
            if alias not in settings.CACHES:
                raise CacheConfigurationError(
                    f"CachedStorage 'cache' names {alias!r}, which is not an alias "
                    f"in settings.CACHES (aliases: {', '.join(sorted(settings.CACHES))}).",
                    alias=alias,
                )
            self._cache = MetadataCache(
                alias,
                local_timeout=self._options.local_timeout,
                local_maxsize=self._options.local_maxsize,
            )
            self._l1_get = self._cache.local_get
        return self._cache

    def _pass(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped storage (and tell the profiler it was reached)."""
        metrics.storage_call(method)
        return getattr(self.wrapped, method)(*args, **kwargs)

    def _canonical(self, name: Any) -> str | None:
        """The stored name of ``name``; ``None`` when the wrapped storage must answer itself.

        Whatever the adapter cannot turn into a name (``None``, a traversal the
        storage refuses, a type it does not take) is handed to the wrapped
        storage unchanged, so the answer or the error is exactly its own.
        """
        if type(name) is str:
            return self._name(name).stored
        try:
            return self.adapter.canonical(name)
        except Exception:
            return None

    def _name(self, name: str) -> _Name:
        """The memoized keys of a ``str`` name."""
        known = self._names.get(name)
        if known is not None:
            return known
        try:
            stored: str | None = self.adapter.canonical(name)
        except Exception:
            stored = None
        keys = self.keys
        known = _Name(stored, None if stored is None else keys.record(stored), keys.url(name))
        names = self._names
        if len(names) >= 4 * self._options.local_maxsize:
            names.clear()  # a bound on memory; the next lookups rebuild what is still asked
        names[name] = known
        return known

    def _local_hit(self, key: str | None) -> Any:
        """L1's entry for ``key`` without a round trip (the warm page's path), or ``None``."""
        if key is None:
            return None
        entry = self.cache.local(key)
        if entry is not None and metrics.sinks.current:
            metrics.cache("l1", 1, 0)
        return entry

    # -- records --------------------------------------------------------------

    def metadata(self, name: str) -> Record:
        """The record for ``name``, filled from the backend if no cache level has it."""
        return self._record(self.adapter.canonical(name), name)

    def _record(self, stored: str, name: Any) -> Record:
        key = self.keys.record(stored)
        batch: list[str] = []

        def siblings() -> list[str]:  # called on an L1 miss only
            batch.extend(self._batch(self.keys.url(_spelling(name))))
            return batch

        record = self.cache.get(key, siblings=siblings)
        if batch and self._options.specs:
            self._fetch_rendition_urls([key, *batch])
        if isinstance(record, Record):
            return record
        # Concurrent askers in this process share one probe (single-flight).
        return _flights.do(key, lambda: self._fill(key, name))

    def _fetch_rendition_urls(self, keys: list[str]) -> None:
        """The URLs of the renditions that the records just fetched list, in one ``get_many``.

        A record holds its renditions' public URLs; signed ones expire, so they are
        cached apart. Fetched here, right after the page's records arrived, a page of
        thumbnails in a new process costs one round trip more, not one per rendition.
        """
        wanted: list[str] = []
        for key in keys:
            record = self.cache.local(key)
            if isinstance(record, Record):
                for info in record.renditions:
                    if info.url is None:
                        url_key = self.keys.url(info.name)
                        if self.cache.local_get(url_key) is None:
                            wanted.append(url_key)
        if wanted:
            self.cache.get_many(wanted)

    def _fill(self, key: str, name: Any) -> Record:
        """Probe the backend for ``name`` and add the record (a read fill never overwrites)."""
        known = self.cache.local(key)  # filled by a flight that ended just before ours
        if isinstance(known, Record):
            return known
        record = self.adapter.probe(name)
        if record.exists:
            self.cache.add(key, record, self._record_timeout())
        else:
            self.cache.add(key, record, self.missing_timeout)
        return record

    def _record_timeout(self) -> float | None:
        """A positive record's L2 lifetime: ``timeout`` less up to ``timeout_jitter`` of it.

        Records written in one burst (a bulk upload, a prewarm) then expire over a
        spread of time instead of in the same second (the cache *avalanche*); the
        staleness bound stays ``timeout``.
        """
        timeout = self.timeout
        if timeout is None or not timeout:
            return timeout
        return timeout * (1.0 - self._options.timeout_jitter * random.random())

    # -- renditions -------------------------------------------------------------------

    def rendition(self, name: str, spec: str, fmt: str | None = None) -> Rendition:
        """The rendition ``spec`` of ``name`` (in format ``fmt``), from the source's record.

        A missing one is handled as ``OPTIONS["missing_renditions"]`` says; see
        :mod:`ikstorage.renditions.lookup`.
        """
        return rendition_lookup.find(self, name, spec, fmt)

    def renditions(self, name: str) -> tuple[RenditionInfo, ...]:
        """Every rendition the record of ``name`` lists (no backend call once cached)."""
        return self.metadata(name).renditions

    def render_missing(self, name: str, *, wait: float | None = None) -> int:
        """Render the renditions ``name`` lacks (one download for all); returns how many it has.

        Waits up to ``wait`` seconds (default ``write_lease_timeout``) for another
        process rendering or writing the same file. Used by ``ikstorage_prewarm
        --renditions`` and the deferred task.
        """
        timeout = self._options.write_lease_timeout if wait is None else wait
        record = rendition_lookup.render_missing(self, name, wait=timeout)
        return len((record or self.metadata(name)).renditions)

    def public_url(self, name: str) -> str | None:
        """The URL of ``name`` if the storage's URLs never expire, else ``None``."""
        if self.adapter.url_lifetime() is not None:
            return None
        # Straight from the storage: it is kept in the source's record, not beside it.
        return str(self._pass("url", name))

    # -- bulk access, for prewarming a cache --------------------------------------

    def cached_records(self, names: Iterable[str]) -> dict[str, Record]:
        """The records the cache levels hold for ``names``, in one ``get_many``; no backend call.

        Names nobody recorded (or that the storage would refuse) are absent from
        the result.
        """
        wanted: dict[str, list[str]] = {}
        adapter, keys = self.adapter, self.keys
        for name in names:
            try:  # not through the page's name memo: a prewarm walks millions of names
                stored = adapter.canonical(name)
            except Exception:
                continue
            wanted.setdefault(keys.record(stored), []).append(name)
        found = self.cache.get_many(list(wanted))
        return {
            name: entry
            for key, entry in found.items()
            if isinstance(entry, Record)
            for name in wanted[key]
        }

    def probe(self, name: str) -> Record:
        """Ask the backend everything cacheable about ``name`` (the adapter's cheapest call).

        Nothing is stored: see :meth:`store`. Concurrent probes of one name in
        this process share one backend call.
        """
        stored = self.adapter.canonical(name)
        return _flights.do(("probe", self.keys.record(stored)), lambda: self.adapter.probe(name))

    def store(self, name: str, record: Record, *, replace: bool = False) -> bool:
        """Keep ``record`` as what is known about ``name``; ``True`` if it was stored.

        A fill (``replace=False``) uses ``add``: it never overwrites a record a
        save or delete wrote meanwhile (invariant 2), and returns ``False`` then.
        ``replace=True`` overwrites (``ikstorage_prewarm --refresh``: repairing
        records after files changed behind ikstorage's back). Positive records
        live ``timeout`` less the jitter; negative ones ``missing_timeout``.
        """
        key = self.keys.record(self.adapter.canonical(name))
        timeout = self._record_timeout() if record.exists else self.missing_timeout
        if replace:
            self.cache.set(key, record, timeout)
            return True
        return self.cache.add(key, record, timeout)

    def invalidate(self, name: str) -> None:
        """Forget everything cached about ``name``, in L2 and in this process.

        For code that writes to the bucket behind ikstorage's back. Other
        processes may answer from their L1 for up to ``local_timeout`` seconds.
        """
        keys = [self.keys.url(_spelling(name))]
        stored = self._canonical(name)
        if stored is not None:
            keys += self.keys.facts(stored)
        self.cache.delete_many(keys)

    def prefetch(self, files: Iterable[str | File[Any] | None]) -> None:
        """Load the records and URLs of many files into this process in one round trip.

        Accepts names or field files (empty fields are skipped). Names that no
        cache level knows stay unknown; they are filled when first asked.
        """
        if bypassed():
            return
        keys: list[str] = []
        for item in files:
            name = item if isinstance(item, str) else getattr(item, "name", None)
            stored = self._canonical(name) if name else None
            if stored is not None:
                keys += [self.keys.record(stored), self.keys.url(_spelling(name))]
        if keys:
            self.cache.get_many(keys)

    def image_dimensions(self, name: str) -> Dimensions | None:
        """``(width, height)`` as Django would compute it; ``None``: read the file Django's way.

        Used by the ``ImageFile`` hook (:mod:`ikstorage.hooks`). ``None`` for a
        name recorded as missing, so Django's own path raises its usual error,
        and for dimensions not determined yet; the hook then hands what Django
        found to :meth:`remember_dimensions`.
        """
        if bypassed():
            return None
        if type(name) is str:
            known = self._names.get(name)
            record = None if known is None or known.record is None else self._l1_get(known.record)
            if type(record) is Record and record.exists and record.dimensions_known:
                if metrics.sinks.current:
                    metrics.cache("l1", 1, 0)
                return (record.width, record.height)
        stored = self._canonical(name)
        if stored is None:
            return None
        record = self._record(stored, name)
        if not record.exists:
            return None
        if record.dimensions_known:
            return record.dimensions
        entry = self.cache.get(self.keys.dimensions(stored))
        if isinstance(entry, DimensionsEntry) and entry.generation == record.generation:
            return entry.dimensions
        return None

    def remember_dimensions(self, name: str, dimensions: Dimensions) -> None:
        """Keep dimensions read Django's way beside the record they belong to."""
        stored = self._canonical(name)
        if bypassed() or stored is None:
            return
        record = self._record(stored, name)
        if record.exists and not record.dimensions_known:
            entry = DimensionsEntry(record.generation, *dimensions)
            # Safe to ``set``: believed only beside this record generation.
            self.cache.set(self.keys.dimensions(stored), entry, self.timeout)

    # -- memoized Storage API -------------------------------------------------

    def exists(self, name: str) -> bool:
        stored = None if bypassed() else self._canonical(name)
        if stored is None:
            return bool(self._pass("exists", name))
        return self._record(stored, name).exists

    def size(self, name: str) -> int:
        stored = None if bypassed() else self._canonical(name)
        if stored is not None:
            record = self._record(stored, name)
            if record.exists and record.size is not None:
                return record.size
            if not record.exists:
                return int(self._believed_missing("size", name))
        return int(self._pass("size", name))

    def get_modified_time(self, name: str) -> datetime:
        stored = None if bypassed() else self._canonical(name)
        if stored is None:
            return self._pass("get_modified_time", name)  # type: ignore[no-any-return]
        record = self._record(stored, name)
        if not record.exists:
            return self._believed_missing("get_modified_time", name)  # type: ignore[no-any-return]
        adapter = self.adapter
        if record.modified is not None:
            known = adapter.modified_from_plain(record.modified)
            if known is not None:
                return known
        key = self.keys.modified(stored)
        entry = self.cache.get(key)
        if isinstance(entry, ModifiedEntry) and entry.generation == record.generation:
            known = adapter.modified_from_plain(entry.modified)
            if known is not None:
                return known
        modified: datetime = self._pass("get_modified_time", name)
        timestamp = adapter.modified_to_plain(modified)
        if timestamp is not None:
            # Safe to ``set``: the entry is believed only beside this record generation.
            self.cache.set(key, ModifiedEntry(record.generation, timestamp), self.timeout)
        return modified

    def url(self, name: str | None, *args: Any, **kwargs: Any) -> str:
        # The warm page's path: a public URL this process already holds.
        if type(name) is str and not args and not kwargs:
            known = self._names.get(name)
            if known is not None:
                entry = self._l1_get(known.url)
                if type(entry) is UrlEntry and entry.expires is None and not bypassed():
                    if metrics.sinks.current:
                        metrics.cache("l1", 1, 0)
                    return entry.url
        if args or kwargs or bypassed() or not isinstance(name, str | os.PathLike):
            return self._pass("url", name, *args, **kwargs)  # type: ignore[no-any-return]
        if type(name) is str:
            known = self._local_hit(self._name(name).url)
            if type(known) is UrlEntry and (
                known.expires is None or known.expires - self.url_expiry_margin > time.time()
            ):
                return known.url
        key = self.keys.url(_spelling(name))
        entry = self.cache.get(key, siblings=lambda: self._batch(*self._record_key(name)))
        if isinstance(entry, UrlEntry) and (
            entry.expires is None or entry.expires - self.url_expiry_margin > time.time()
        ):
            return entry.url
        lifetime = self.adapter.url_lifetime()
        now = time.time()
        url: str = self._pass("url", name)
        if lifetime is None:
            self.cache.set(key, UrlEntry(url, None), None)
        elif lifetime > self.url_expiry_margin:
            ttl = lifetime - self.url_expiry_margin
            self.cache.set(key, UrlEntry(url, now + lifetime), ttl)
        return url

    def _batch(self, *own: str) -> list[str]:
        """``own`` keys plus the records and URLs of the names noted for this storage.

        Called on an L1 miss: the ``get_many`` it feeds fetches the whole page
        (:mod:`ikstorage.batching`) in the round trip this lookup makes anyway.
        """
        keys = list(own)
        for noted in batching.take(self):
            known = self._name(noted)
            if known.record is not None:
                keys.append(known.record)
            keys.append(known.url)
        return keys

    def _record_key(self, name: Any) -> list[str]:
        stored = self._canonical(name)
        return [] if stored is None else [self.keys.record(stored)]

    def _believed_missing(self, method: str, name: Any) -> Any:
        """Ask the backend about a name recorded as missing; its error is the answer."""
        result = self._pass(method, name)
        self.invalidate(name)  # it exists after all: the negative entry was stale
        return result

    # -- writes ---------------------------------------------------------------

    def _lease(self, stored: str) -> Lease:
        """Hold the write lease of one stored name (waits for another writer of it)."""
        wait = self._options.write_lease_timeout
        lease = Lease(self.cache, self.keys.lease(stored), ttl=wait)
        lease.acquire(wait=wait)
        return lease

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        if type(self.wrapped).save is Storage.save:
            # Django's own flow: the wrapped storage chooses the name, ``_save`` below writes.
            return super().save(name, content, max_length=max_length)
        # The wrapped storage has a save() of its own: use it as it is, and let the
        # next reader learn what it stored.
        saved: str = self._pass("save", name, content, max_length=max_length)
        if not bypassed():
            self.invalidate(saved)
            stored = self._canonical(saved)
            if stored is not None:
                parents = self.adapter.parents(stored)
                self.cache.delete_many([self.keys.record(p) for p in parents])
        return saved

    def _save(self, name: str, content: File[Any]) -> str:
        stored = None if bypassed() else self._canonical(name)
        if stored is None:
            return self._pass("_save", name, content)  # type: ignore[no-any-return]
        upload = uploads.inspect(self.adapter, name, content, probe_limit=self.probe_limit)
        # Renditions are rendered before the lease (CPU work holds up nobody).
        prepared = self._prepare_renditions(stored, content, upload)
        lease = self._lease(stored)
        try:
            saved: str = self._pass("_save", name, content)
        except BaseException:
            lease.release(also=self.keys.facts(stored))
            raise
        saved_stored = self._canonical(saved)
        stale = [self.keys.record(parent) for parent in self.adapter.parents(stored)]
        record = upload.record()
        queue = False
        if saved_stored == stored and record is not None and lease.still_held:
            if prepared is not None:
                record, gone = rendition_saving.attach(self, stored, prepared, record)
                stale += self._facts_of(gone)
                queue = self._options.render == "defer"
            self.cache.set(self.keys.record(stored), record, self._record_timeout())
        else:
            # Not ordered (no lease), or the storage chose another name than the one
            # leased, or the stored size is not known: the next reader asks the backend.
            stale += self.keys.facts(stored)
            if saved_stored is not None and saved_stored != stored:
                stale += self.keys.facts(saved_stored)
                stale += [self.keys.record(p) for p in self.adapter.parents(saved_stored)]
        lease.release(also=stale)
        if queue:  # after the release: an inline (immediate) task takes the lease itself
            from ikstorage.renditions import tasks

            tasks.enqueue(self, saved)
        return saved

    def _prepare_renditions(
        self, stored: str, content: File[Any], upload: uploads.Upload
    ) -> rendition_saving.Prepared | None:
        """Render the specs matching ``stored`` from ``content``, before anything is written.

        ``None`` when no spec applies or the content is not a seekable binary
        stream (then the first page asking renders them). With
        ``render="defer"`` only the source's digest is taken here, and the
        task's storage alias is checked before the source is written.
        """
        specs = self._options.specs
        if not specs or upload.size is None:
            return None
        wanted = rendition_saving.variants_for(specs.values(), stored)
        if not wanted:
            return None
        if self._options.render == "defer":
            from ikstorage.renditions import tasks
            from ikstorage.renditions.naming import source_digest

            tasks.storage_alias(self)  # a misconfiguration fails before any write
            return rendition_saving.Prepared(source_digest(content), None)
        return rendition_saving.prepare(self, stored, content, wanted)

    def _facts_of(self, names: Iterable[str]) -> list[str]:
        """The fact keys of files (renditions) about to be deleted."""
        keys: list[str] = []
        for name in names:
            stored = self._canonical(name)
            if stored is not None:
                keys += self.keys.facts(stored)
        return keys

    def fresh_metadata(self, name: str) -> Record:
        """The record of ``name`` as the shared cache holds it (or probed), L1 skipped.

        For a holder of the name's lease, which must see what other processes
        wrote before it took the lease.
        """
        stored = self.adapter.canonical(name)
        key = self.keys.record(stored)
        record = self.cache.fresh(key)
        if isinstance(record, Record):
            return record
        return self._fill(key, name)

    def delete(self, name: str) -> None:
        stored = None if bypassed() else self._canonical(name)
        if stored is None:
            self._pass("delete", name)
            return
        lease = self._lease(stored)
        # Its renditions go with it, where the record that lists them is known.
        known = self.cache.fresh(self.keys.record(stored)) if self._options.specs else None
        renditions = [r.name for r in known.renditions] if isinstance(known, Record) else []
        # A folder deleted with its contents takes their records along; the folders
        # above it changed too (their modified time, on a file system).
        stale = [
            key for inside in self.adapter.deleted_with(stored) for key in self.keys.facts(inside)
        ]
        stale += [self.keys.record(parent) for parent in self.adapter.parents(stored)]
        try:
            self._pass("delete", name)
        except BaseException:
            lease.release(also=[*self.keys.facts(stored), *stale])
            raise
        # Even unordered, a tombstone is the safer guess: it is short-lived, while a
        # slow reader re-filling "exists" after a plain invalidation lasts a day.
        self.cache.set(self.keys.record(stored), Record.missing(), self.missing_timeout)
        rendition_saving.remove(self, renditions)
        lease.release(also=[*stale, *self._facts_of(renditions)])

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        file: File[Any] = self._pass("open", name, mode)
        if bypassed() or not set(mode) & set("wax+"):
            return file
        # Written through the file object: the record is unknown until it closes.
        self.invalidate(name)
        close = file.close

        def close_and_forget() -> None:
            try:
                close()
            finally:
                self.invalidate(name)

        file.close = close_and_forget  # type: ignore[method-assign]
        return file

    # -- delegated as is --------------------------------------------------------

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # Always the backend's answer: a stale cached "missing" must never make a
        # taken name look free (that would overwrite a file).
        return self._pass("get_available_name", name, max_length=max_length)  # type: ignore[no-any-return]

    def is_name_available(self, name: str, max_length: int | None = None) -> bool:
        return self._pass("is_name_available", name, max_length=max_length)  # type: ignore[no-any-return]

    def get_valid_name(self, name: str) -> str:
        return self.wrapped.get_valid_name(name)

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        return self.wrapped.get_alternative_name(file_root, file_ext)

    def generate_filename(self, filename: str | os.PathLike[str]) -> str:
        return self.wrapped.generate_filename(filename)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self._pass("listdir", path)  # type: ignore[no-any-return]

    def path(self, name: str) -> str:
        return self._pass("path", name)  # type: ignore[no-any-return]

    def get_accessed_time(self, name: str) -> datetime:
        return self._pass("get_accessed_time", name)  # type: ignore[no-any-return]

    def get_created_time(self, name: str) -> datetime:
        return self._pass("get_created_time", name)  # type: ignore[no-any-return]
