"""The parts one storage's core is made of, built on first use.

The wrapped storage, its backend adapter, the cache keys of its identity and
its two cache levels are built when first needed, not when the storage is:
settings may name ``STORAGES`` aliases in any order, and a storage built at
import time (a model field's) must not touch the cache or the network then.
When a setting changes (tests), :meth:`Parts.forget` drops what was derived
from it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.files.storage import InvalidStorageError, Storage, storages

from ikstorage import metrics
from ikstorage.backends import Adapter, adapter_for
from ikstorage.backends.base import class_path
from ikstorage.backends.identity import instance_token
from ikstorage.cache import MetadataCache
from ikstorage.cache.broadcast import carries
from ikstorage.exceptions import CacheConfigurationError, ConfigurationError
from ikstorage.records import Keys

__all__ = ["Parts", "identity"]


def identity(
    adapter: Adapter, storage: str | Mapping[str, Any] | Storage, named: str | None = None
) -> str:
    """What names a storage's records: the adapter's identity, the ``identity``
    option, and the alias if one is used.

    The same in every process for the same configuration (``DESIGN.md``,
    invariant 13); two aliases over one bucket keep apart records. The
    ``identity`` option adds to what the adapter derives; where it derives
    nothing, it is all there is, else the records are this storage object's
    own (a random token, never ``id()``: forked processes reuse addresses).
    """
    found = adapter.identity()
    if found is None:
        token = f"instance={instance_token(adapter.storage)}" if named is None else "named"
        found = f"{class_path(adapter.storage)}|{token}"
    if named is not None:
        found += f"|identity={named!r}"
    if isinstance(storage, str):
        found += f"|alias={storage}"
    return found


class Parts:
    """The wrapped storage and what is derived from it, for one ``CachedStorage``.

    ``storage`` is the ``storage`` option: a ``STORAGES`` alias, a
    ``{"BACKEND": ..., "OPTIONS": ...}`` dict or a ``Storage``. ``owner`` is the
    storage these parts belong to, so an alias naming it is refused. ``named``
    is the ``identity`` option.
    """

    def __init__(
        self,
        storage: str | Mapping[str, Any] | Storage,
        *,
        owner: object,
        cache: str,
        local_timeout: float,
        local_maxsize: int,
        probe_bytes: int,
        probe_limit: int,
        named: str | None = None,
        broadcast: bool = False,
    ) -> None:
        self.storage = storage
        #: The ``identity`` option: a name for the storage's records, added to the derived one.
        self.named = named
        self.cache_alias = cache
        self.local_timeout = local_timeout
        self.local_maxsize = local_maxsize
        #: The ``broadcast`` option: writes announced to other processes over the cache's Redis.
        self.broadcast = broadcast
        self._owner = weakref.ref(owner)
        self._probe = (probe_bytes, probe_limit)
        self._lock = threading.Lock()
        self._wrapped: Storage | None = None
        self._adapter: Adapter | None = None
        self._identity: str | None = None
        self._keys: Keys | None = None
        self._cache: MetadataCache | None = None

    @property
    def owner(self) -> object:
        """The storage these parts belong to (``None`` once it is gone)."""
        return self._owner()

    @property
    def wrapped(self) -> Storage:
        """The storage that holds the files."""
        if self._wrapped is None:
            with self._lock:
                if self._wrapped is None:
                    self._wrapped = self._build_wrapped()
        return self._wrapped

    def _build_wrapped(self) -> Storage:
        spec = self.storage
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
            if built is self._owner():
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

    @property
    def adapter(self) -> Adapter:
        """The backend adapter: the cheapest calls that answer a file's facts."""
        adapter = self._adapter
        if adapter is None:
            probe_bytes, probe_limit = self._probe
            adapter = self._adapter = adapter_for(
                self.wrapped, probe_bytes=probe_bytes, probe_limit=probe_limit
            )
        return adapter

    @property
    def identity(self) -> str:
        """The identity the records are kept under (see :func:`identity`)."""
        found = self._identity
        if found is None:
            found = self._identity = identity(self.adapter, self.storage, self.named)
        return found

    @property
    def keys(self) -> Keys:
        """The cache keys of this storage's identity."""
        keys = self._keys
        if keys is None:
            keys = self._keys = Keys(self.identity)
        return keys

    @property
    def cache(self) -> MetadataCache:
        """L1 and L2, for the ``cache`` alias (checked when first used)."""
        if self._cache is None:
            alias = self.cache_alias
            if alias not in settings.CACHES:
                raise CacheConfigurationError(
                    f"CachedStorage 'cache' names {alias!r}, which is not an alias "
                    f"in settings.CACHES (aliases: {', '.join(sorted(settings.CACHES))}).",
                    alias=alias,
                )
            backend = settings.CACHES[alias].get("BACKEND")
            if self.broadcast and not carries(backend):
                raise CacheConfigurationError(
                    f"CachedStorage 'broadcast' needs a Redis cache (Django's RedisCache or "
                    f"django-redis), but the cache {alias!r} is {backend!r} "
                    "(ikstorage.E009).",
                    alias=alias,
                )
            self._cache = MetadataCache(
                alias,
                local_timeout=self.local_timeout,
                local_maxsize=self.local_maxsize,
                broadcast=self.broadcast,
            )
        return self._cache

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped storage (and tell the profiler it was reached)."""
        metrics.storage_call(method)
        return getattr(self.wrapped, method)(*args, **kwargs)

    def forget(self, setting: str) -> None:
        """A setting changed: the storage's location, URL or alias may be another now."""
        self._adapter = None
        self._identity = None
        self._keys = None
        if setting == "STORAGES" and isinstance(self.storage, str):
            self._wrapped = None
