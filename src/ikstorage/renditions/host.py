"""What renditions need from the core of the storage they belong to: a typed interface.

The renditions feature never imports the storage facade. It is handed an
object satisfying :class:`Host` (``ikstorage.core.core.Core`` does) and works
through these calls only: records read and written, the source's lease, URLs,
and the backend adapter for the files it makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ikstorage.backends import Adapter
from ikstorage.backends.stream import Opened
from ikstorage.lease import Lease
from ikstorage.records import Record

__all__ = ["Host"]


class Host(Protocol):
    """The core of one storage, as the renditions feature uses it."""

    @property
    def owner(self) -> object:
        """The storage this core belongs to."""
        ...

    @property
    def files(self) -> Adapter:
        """Reads, writes and deletes of whole files (sources and renditions)."""
        ...

    def canonical(self, name: Any) -> str:
        """The stored name of ``name``."""
        ...

    def metadata(self, name: Any) -> Record:
        """The record of ``name`` (L1, L2, or a probe)."""
        ...

    def metadata_reading(
        self, name: Any, wanted: Callable[[Record | None], bool]
    ) -> tuple[Record, Opened | None]:
        """The record of ``name``; when it had to be probed and ``wanted(record)``,
        the probe's read of the whole file, open, to finish or close; ``wanted(None)``
        is asked before the probe, whether the file may be wanted at all."""
        ...

    def fresh_metadata(self, name: Any) -> Record:
        """The record as the shared cache holds it: what a lease holder must see."""
        ...

    def shared_record(self, stored: str) -> Record | None:
        """The shared cache's record of ``stored``, if any (no probe)."""
        ...

    def store(self, name: str, record: Record, *, replace: bool = False) -> bool:
        """Keep ``record`` for ``name``."""
        ...

    def facts_of(self, names: Iterable[str]) -> list[str]:
        """The cache keys of the facts of ``names`` (to forget them on a release)."""
        ...

    def url(self, name: str) -> str:
        """The memoized URL of ``name``."""
        ...

    def public_url(self, name: str) -> str | None:
        """The URL of ``name`` when it never expires, else ``None``."""
        ...

    def lease(self, stored: str, *, wait: float | None = None) -> Lease:
        """The write lease of ``stored``, waited for up to ``wait`` seconds."""
        ...

    def mark_queued(self, name: str, *, ttl: float, once_per_process: bool = False) -> bool:
        """Mark a task for ``name`` queued; ``False`` if one was, less than ``ttl`` s ago."""
        ...
