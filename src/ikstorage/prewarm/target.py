"""What prewarming needs from the core of a storage it fills: a typed interface.

Prewarm never imports the storage facade. Its sources find the core behind
a field's storage or a ``STORAGES`` alias (``ikstorage.core.core.core_of``)
and work through these calls only; :class:`~ikstorage.core.core.Core`
satisfies them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from django.core.files.storage import Storage

from ikstorage.backends.stream import Opened
from ikstorage.cache import MetadataCache
from ikstorage.lease import Lease
from ikstorage.records import Record

__all__ = ["Target"]


class Target(Protocol):
    """The core of one storage, as a prewarm run uses it."""

    @property
    def wrapped(self) -> Storage:
        """The storage holding the files (listed directly where that is cheaper)."""
        ...

    @property
    def cache(self) -> MetadataCache:
        """The cache levels (the checkpoint lives beside the records)."""
        ...

    @property
    def identity(self) -> str:
        """What the records are kept under; the same in every process."""
        ...

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """A call to the wrapped storage (``listdir``), reported to the profiler."""
        ...

    def canonical(self, name: Any) -> str:
        """The stored name of ``name``."""
        ...

    def cached_records(self, names: Iterable[str]) -> dict[str, Record]:
        """The records the cache holds for ``names``, in one round trip."""
        ...

    def probe(self, name: str) -> Record:
        """What the backend tells about ``name``; nothing is stored."""
        ...

    def probe_open(self, name: str) -> Opened:
        """The probe's facts with the read of the file left open, to finish or close."""
        ...

    def store(self, name: str, record: Record, *, replace: bool = False) -> bool:
        """Keep ``record`` for ``name``: ``add`` (a fill) or ``set`` (``replace``)."""
        ...

    def shared_record(self, stored: str) -> Record | None:
        """The shared cache's record of the file stored as ``stored`` (L1 skipped, no probe)."""
        ...

    def lease(self, stored: str, *, wait: float | None = None) -> Lease:
        """The write lease of ``stored`` (``--refresh`` overwrites records under it)."""
        ...
