"""``CachedStorage``: any Django storage, with its metadata remembered.

Every method of the ``Storage`` API is delegated to the wrapped storage.
``exists``, ``size``, ``url``, ``get_modified_time`` and image dimensions are
answered from a metadata record kept in two cache levels (see
:mod:`ikstorage.cache`); the first lookup of a name fills its record with the
backend's cheapest probe (see :mod:`ikstorage.backends`).

Correctness rules (``DESIGN.md``, invariants 1 to 5):

* ``save`` writes the record through only after the backend succeeded, with
  size and dimensions read from the bytes being saved; ``delete`` leaves a
  short-lived tombstone; read fills use ``add`` so they never overwrite a newer
  record; a failed backend call removes whatever was cached for the name.
* Choosing a free name (``get_available_name``) always asks the wrapped
  storage: a cached "missing" never lets a save overwrite an existing file.
* A cached "missing" answers ``exists()`` only. ``size()``, ``get_modified_time()``
  and dimensions of a missing name go to the backend, so errors are exactly
  the wrapped storage's own.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from ikstorage import metrics
from ikstorage.backends import Adapter, adapter_for
from ikstorage.backends.base import DEFAULT_PROBE_BYTES, DEFAULT_PROBE_LIMIT
from ikstorage.cache import MetadataCache
from ikstorage.imageinfo import dimensions_from_file
from ikstorage.records import Keys, ModifiedEntry, Record, UrlEntry, new_generation

__all__ = ["CachedStorage", "bypass_cache"]

#: Defaults of the OPTIONS; ``docs/settings.md`` gives the reason for each.
DEFAULTS: dict[str, Any] = {
    "cache": "default",
    "timeout": 24 * 60 * 60,
    "missing_timeout": 60,
    "local_timeout": 60,
    "local_maxsize": 10_000,
    "url_expiry_margin": 300,
    "probe_bytes": DEFAULT_PROBE_BYTES,
    "probe_limit": DEFAULT_PROBE_LIMIT,
}
OPTIONS = frozenset({"storage", *DEFAULTS})

_bypass: ContextVar[bool] = ContextVar("ikstorage_bypass", default=False)


@contextmanager
def bypass_cache() -> Iterator[None]:
    """Inside this block every ``CachedStorage`` passes every call straight through.

    Used to measure what a page costs without ikstorage (``ikstorage_profile
    --compare``); nothing is read from or written to the cache meanwhile.
    """
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)


def _rebuild(args: tuple[Any, ...], kwargs: dict[str, Any]) -> CachedStorage:
    return CachedStorage(*args, **kwargs)


@deconstructible(path="ikstorage.CachedStorage")
class CachedStorage(Storage):
    """A ``Storage`` that wraps another and memoizes its metadata.

    ``storage`` is a ``STORAGES`` alias, a ``{"BACKEND": ..., "OPTIONS": ...}``
    dict, or a ``Storage`` instance; it is built on first use, so settings may
    name aliases in any order. ``cache`` is a ``CACHES`` alias.
    """

    def __init__(self, storage: Any = None, cache: str = "default", **options: Any) -> None:
        unknown = sorted(set(options) - OPTIONS)
        if unknown:
            raise ImproperlyConfigured(
                f"CachedStorage got unknown option(s) {', '.join(map(repr, unknown))}; "
                f"valid options are {', '.join(sorted(OPTIONS))}."
            )
        if storage is None:
            raise ImproperlyConfigured(
                "CachedStorage needs the 'storage' option: a STORAGES alias, a "
                "{'BACKEND': ..., 'OPTIONS': ...} dict, or a Storage instance."
            )
        if not isinstance(storage, str | Mapping | Storage):
            raise ImproperlyConfigured(
                f"CachedStorage 'storage' must be a STORAGES alias, a dict or a Storage "
                f"instance, not {type(storage).__name__}."
            )
        if not isinstance(cache, str):
            raise ImproperlyConfigured("CachedStorage 'cache' must be a CACHES alias (a string).")
        values = {**DEFAULTS, **options}
        self._storage_spec = storage
        self.cache_alias = cache
        self.timeout: float | None = _seconds("timeout", values["timeout"], allow_none=True)
        self.missing_timeout = _seconds("missing_timeout", values["missing_timeout"])
        self.local_timeout = _seconds("local_timeout", values["local_timeout"])
        self.url_expiry_margin = _seconds("url_expiry_margin", values["url_expiry_margin"])
        self.local_maxsize = _count("local_maxsize", values["local_maxsize"], 1)
        self.probe_bytes = _count("probe_bytes", values["probe_bytes"], 1024)
        self.probe_limit = _count("probe_limit", values["probe_limit"], self.probe_bytes)
        self._lock = threading.Lock()
        self._wrapped: Storage | None = None
        self._adapter: Adapter | None = None
        self._keys: Keys | None = None
        self._cache: MetadataCache | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        args, kwargs = self._constructor_args  # type: ignore[attr-defined]
        return (_rebuild, (args, kwargs))

    def __repr__(self) -> str:
        spec, alias = getattr(self, "_storage_spec", None), getattr(self, "cache_alias", None)
        return f"<CachedStorage of {spec!r} in cache {alias!r}>"

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

        spec = self._storage_spec
        if isinstance(spec, Storage):
            return spec
        if isinstance(spec, str):
            try:
                built = storages[spec]
            except InvalidStorageError:
                raise ImproperlyConfigured(
                    f"CachedStorage 'storage' names {spec!r}, which is not an alias in "
                    f"settings.STORAGES (aliases: {', '.join(sorted(storages.backends))})."
                ) from None
            if built is self:
                raise ImproperlyConfigured(
                    f"CachedStorage 'storage' names {spec!r}, the alias of this storage itself."
                )
            return built
        if "BACKEND" not in spec:
            raise ImproperlyConfigured(
                "CachedStorage 'storage' dict needs a 'BACKEND' key "
                "(and optionally 'OPTIONS'), as an entry of settings.STORAGES does."
            )
        return storages.create_storage(dict(spec))

    @property
    def adapter(self) -> Adapter:
        if self._adapter is None:
            self._adapter = adapter_for(
                self.wrapped, probe_bytes=self.probe_bytes, probe_limit=self.probe_limit
            )
        return self._adapter

    @property
    def keys(self) -> Keys:
        if self._keys is None:
            identity = self.adapter.identity()
            if isinstance(self._storage_spec, str):
                identity += f"|alias={self._storage_spec}"
            self._keys = Keys(identity)
        return self._keys

    @property
    def cache(self) -> MetadataCache:
        if self._cache is None:
            if self.cache_alias not in settings.CACHES:
                raise ImproperlyConfigured(
                    f"CachedStorage 'cache' names {self.cache_alias!r}, which is not an alias "
                    f"in settings.CACHES (aliases: {', '.join(sorted(settings.CACHES))})."
                )
            self._cache = MetadataCache(
                self.cache_alias,
                local_timeout=self.local_timeout,
                local_maxsize=self.local_maxsize,
            )
        return self._cache

    def _pass(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped storage (and tell the profiler it was reached)."""
        metrics.storage_call(method)
        return getattr(self.wrapped, method)(*args, **kwargs)

    # -- records --------------------------------------------------------------

    def metadata(self, name: str) -> Record:
        """The record for ``name``, filled from the backend if no cache level has it."""
        key = self.keys.record(name)
        record = self.cache.get(key, siblings=[self.keys.url(name)])
        if not isinstance(record, Record):
            record = self.adapter.probe(name)
            timeout = self.timeout if record.exists else self.missing_timeout
            self.cache.add(key, record, timeout)
        return record

    def invalidate(self, name: str) -> None:
        """Forget everything cached about ``name``, in L2 and in this process.

        For code that writes to the bucket behind ikstorage's back. Other
        processes may answer from their L1 for up to ``local_timeout`` seconds.
        """
        self.cache.delete_many(self.keys.all(name))

    def prefetch(self, files: Iterable[str | File[Any] | None]) -> None:
        """Load the records and URLs of many files into this process in one round trip.

        Accepts names or field files (empty fields are skipped). Names that no
        cache level knows stay unknown; they are filled when first asked.
        """
        if _bypass.get():
            return
        keys: list[str] = []
        for item in files:
            name = item if isinstance(item, str) else getattr(item, "name", None)
            if name:
                keys += [self.keys.record(name), self.keys.url(name)]
        if keys:
            self.cache.get_many(keys)

    def image_dimensions(self, name: str) -> tuple[int | None, int | None] | None:
        """``(width, height)`` from the record; ``None`` when the caller should read the file.

        Used by the ``ImageFile`` hook (:mod:`ikstorage.hooks`). ``None`` for a
        name recorded as missing, so Django's own path raises its usual error.
        """
        if _bypass.get():
            return None
        record = self.metadata(name)
        if not record.exists or not record.dimensions_known:
            return None
        return record.dimensions

    # -- memoized Storage API -------------------------------------------------

    def exists(self, name: str) -> bool:
        if _bypass.get():
            return bool(self._pass("exists", name))
        return self.metadata(name).exists

    def size(self, name: str) -> int:
        if not _bypass.get():
            record = self.metadata(name)
            if record.exists and record.size is not None:
                return record.size
            if not record.exists:
                return int(self._believed_missing("size", name))
        return int(self._pass("size", name))

    def get_modified_time(self, name: str) -> datetime:
        if _bypass.get():
            return self._pass("get_modified_time", name)  # type: ignore[no-any-return]
        record = self.metadata(name)
        if not record.exists:
            return self._believed_missing("get_modified_time", name)  # type: ignore[no-any-return]
        if record.modified is not None:
            return _datetime(record.modified)
        key = self.keys.modified(name)
        entry = self.cache.get(key)
        if isinstance(entry, ModifiedEntry) and entry.generation == record.generation:
            return _datetime(entry.modified)
        modified: datetime = self._pass("get_modified_time", name)
        learned = ModifiedEntry(record.generation, modified.timestamp())
        # Safe to ``set``: the entry is believed only beside this record generation.
        self.cache.set(key, learned, self.timeout)
        return modified

    def url(self, name: str | None, *args: Any, **kwargs: Any) -> str:
        if args or kwargs or _bypass.get() or name is None:
            return self._pass("url", name, *args, **kwargs)  # type: ignore[no-any-return]
        key = self.keys.url(name)
        entry = self.cache.get(key, siblings=[self.keys.record(name)])
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

    def _believed_missing(self, method: str, name: str) -> Any:
        """Ask the backend about a name recorded as missing; its error is the answer."""
        result = self._pass(method, name)
        self.invalidate(name)  # it exists after all: the negative entry was stale
        return result

    # -- writes ---------------------------------------------------------------

    def _save(self, name: str, content: File[Any]) -> str:
        if _bypass.get():
            return self._pass("_save", name, content)  # type: ignore[no-any-return]
        size = self.adapter.saved_size(name, content)
        seekable = _seekable(content)
        dims = dimensions_from_file(content, limit=self.probe_limit) if seekable else None
        try:
            saved: str = self._pass("_save", name, content)
        except BaseException:
            self.invalidate(name)
            raise
        if size is None or not seekable:
            self.invalidate(saved)
            return saved
        record = Record(
            exists=True,
            size=size,
            width=dims[0] if dims else None,
            height=dims[1] if dims else None,
            dimensions_known=True,
            generation=new_generation(),
        )
        self.cache.set(self.keys.record(saved), record, self.timeout)
        return saved

    def delete(self, name: str) -> None:
        if _bypass.get():
            self._pass("delete", name)
            return
        try:
            self._pass("delete", name)
        except BaseException:
            self.invalidate(name)
            raise
        self.cache.set(self.keys.record(name), Record.missing(), self.missing_timeout)

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        file: File[Any] = self._pass("open", name, mode)
        if _bypass.get() or not set(mode) & set("wax+"):
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


def _datetime(timestamp: float) -> datetime:
    """The datetime Django storages return: aware UTC with USE_TZ, else naive local."""
    return datetime.fromtimestamp(timestamp, tz=UTC if settings.USE_TZ else None)


def _seekable(content: File[Any] | IO[bytes]) -> bool:
    try:
        return bool(content.seekable()) if hasattr(content, "seekable") else False
    except (AttributeError, ValueError, OSError):
        return False


def _seconds(option: str, value: Any, *, allow_none: bool = False) -> float:
    if value is None and allow_none:
        return None  # type: ignore[return-value]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ImproperlyConfigured(
            f"CachedStorage {option!r} must be a number of seconds ≥ 0"
            f"{' or None' if allow_none else ''}, not {value!r}."
        )
    return float(value)


def _count(option: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ImproperlyConfigured(
            f"CachedStorage {option!r} must be a whole number ≥ {minimum}, not {value!r}."
        )
    return value
