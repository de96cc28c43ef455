"""One storage's core, assembled: the read path, the answers and the write path over its parts.

Over the parts it is given (:mod:`.parts`), :class:`Core` builds the name memo
(:mod:`.names`), the read path (:mod:`.reads`), the answers (:mod:`.answers`)
and the write path (:mod:`.writes`), and is what the rest of ikstorage holds:

* ``CachedStorage`` (the facade) calls ``reads``, ``answers`` and ``writes``
  directly, and reads the tables of :attr:`Core.warm` on its warm paths;
* the features (renditions, prewarm) call the methods below, each one line
  into the part that answers it: the typed interface they declare as a
  ``Protocol`` of their own (``ikstorage.renditions.host.Host``...) is
  satisfied by this class, so they never import the facade.

:func:`core_of` finds the core behind any storage object a feature is handed
(a field's storage, ``default_storage``, a ``STORAGES`` entry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.files.storage import Storage
from django.utils.functional import LazyObject, empty

from ikstorage.backends import Adapter
from ikstorage.backends.stream import Opened
from ikstorage.bypass import bypassed
from ikstorage.cache import MetadataCache
from ikstorage.cache.levels import local_level
from ikstorage.core.answers import Answers
from ikstorage.core.hook import WriteHook
from ikstorage.core.names import Names
from ikstorage.core.parts import Parts
from ikstorage.core.policy import Policy
from ikstorage.core.reads import Reads
from ikstorage.core.warm import Warm
from ikstorage.core.writes import Writes
from ikstorage.lease import Lease
from ikstorage.records import Keys, Record

__all__ = ["Core", "core_of"]


def core_of(storage: object) -> Core | None:
    """The :class:`Core` behind ``storage`` (a ``LazyObject`` is set up), or ``None``.

    A ``CachedStorage`` exposes its core as ``core``; any other storage has none.
    A core is its own.
    """
    if isinstance(storage, Core):
        return storage
    if isinstance(storage, LazyObject):
        if storage._wrapped is empty:
            storage._setup()
        storage = storage._wrapped
    found = getattr(storage, "core", None)
    return found if isinstance(found, Core) else None


class Core:
    """The read path, answers and write path of one storage, over its ``parts``."""

    def __init__(self, parts: Parts, policy: Policy, hook: WriteHook[Any] | None = None) -> None:
        self.parts = parts
        self.policy = policy
        self.names = Names(lambda: parts.adapter, lambda: parts.keys, maxsize=parts.local_maxsize)
        self.reads = Reads(parts, self.names, policy)
        self.answers = Answers(parts, self.names, self.reads, policy)
        self.writes = Writes(parts, self.names, self.reads, policy, hook)
        #: The warm page's answers, derived from live L1 entries (:mod:`.warm`).
        self.warm = Warm(self.names, local_level(parts.cache_alias, parts.local_maxsize))

    def plug(self, hook: WriteHook[Any]) -> None:
        """Plug a feature into the write path (the storage does, once, when it is built)."""
        self.writes.hook = hook

    def forget(self, setting: str) -> None:
        """A setting changed: drop what was derived from it (the storage, its identity)."""
        self.parts.forget(setting)
        self.names.forget()
        self.warm.forget()

    # -- the parts, for features -------------------------------------------------

    @property
    def owner(self) -> object:
        """The storage this core belongs to (to find it among ``settings.STORAGES``)."""
        return self.parts.owner

    @property
    def wrapped(self) -> Storage:
        """The storage that holds the files."""
        return self.parts.wrapped

    @property
    def files(self) -> Adapter:
        """The backend adapter: reads, writes and deletes of files ikstorage makes."""
        return self.parts.adapter

    @property
    def keys(self) -> Keys:
        """The cache keys of this storage's identity."""
        return self.parts.keys

    @property
    def cache(self) -> MetadataCache:
        """The storage's cache levels (for a feature's own plain values: a checkpoint)."""
        return self.parts.cache

    @property
    def identity(self) -> str:
        """What this storage's records are kept under; the same in every process."""
        return self.parts.identity

    @property
    def hook(self) -> WriteHook[Any] | None:
        """The feature plugged into the write path, if any."""
        return self.writes.hook

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """A call to the wrapped storage, reported to the profiler."""
        return self.parts.call(method, *args, **kwargs)

    # -- names and records -------------------------------------------------------

    def canonical(self, name: Any) -> str:
        """The stored name of ``name``; the storage's own error for a name it refuses."""
        return self.names.canonical(name)

    def metadata(self, name: Any) -> Record:
        """The record of ``name``: L1, L2, or one probe."""
        return self.reads.metadata(name)

    def metadata_reading(
        self, name: Any, wanted: Callable[[Record | None], bool]
    ) -> tuple[Record, Opened | None]:
        """The record of ``name``; if it had to be probed and ``wanted(record)``, the
        probe's read of the file, open (one request for the record and the bytes).
        ``wanted(None)`` is asked before the probe (see ``Reads.opened``)."""
        return self.reads.opened(name, wanted)

    def fresh_metadata(self, name: Any) -> Record:
        """The record as the shared cache holds it (or probed): for a lease holder."""
        return self.reads.fresh(name)

    def shared_record(self, stored: str) -> Record | None:
        """The shared cache's record of ``stored``, if any (no probe)."""
        return self.reads.shared(stored)

    def cached_records(self, names: Iterable[str]) -> dict[str, Record]:
        """The records the cache holds for ``names``, in one round trip; no probe."""
        return self.reads.cached(names)

    def probe(self, name: str) -> Record:
        """What the backend tells about ``name`` now; nothing is stored."""
        return self.reads.probe(name)

    def probe_open(self, name: str) -> Opened:
        """:meth:`probe`'s facts with the read of the file left open (``Adapter.probe_open``);
        nothing is stored. The caller finishes the read or closes it."""
        return self.parts.adapter.probe_open(name)

    def store(self, name: str, record: Record, *, replace: bool = False) -> bool:
        """Keep ``record`` for ``name`` (``add``, or ``set`` with ``replace``)."""
        return self.reads.store(name, record, replace=replace)

    def facts_of(self, names: Iterable[str]) -> list[str]:
        """The cache keys of every fact about the files ``names`` (to forget them)."""
        return self.names.facts_of(names)

    # -- URLs --------------------------------------------------------------------

    def url(self, name: str) -> str:
        """The memoized URL of ``name`` (the storage's own inside ``bypass_cache``)."""
        if bypassed():
            return str(self.parts.call("url", name))
        return self.answers.url(name)

    def public_url(self, name: str) -> str | None:
        """The URL of ``name`` when the storage's URLs never expire, else ``None``."""
        return self.answers.public_url(name)

    # -- coordination across processes --------------------------------------------

    def lease(self, stored: str, *, wait: float | None = None) -> Lease:
        """The write lease of ``stored``, waited for up to ``wait`` seconds (see ``Lease``)."""
        return self.writes.lease(stored, wait=wait)

    def mark_queued(self, name: str, *, ttl: float, once_per_process: bool = False) -> bool:
        """Mark a task for ``name`` queued; ``False`` when one was marked in the last ``ttl`` s.

        ``once_per_process``: a repeat within ``ttl`` in this process costs no
        round trip (pages finding the same rendition missing).
        """
        key = self.parts.keys.queued(self.names.canonical(name))
        cache = self.parts.cache
        mark = cache.add_raw_once if once_per_process else cache.add_raw
        return mark(key, "queued", ttl) is not False
