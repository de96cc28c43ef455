"""The write path's hook: how a feature (renditions) joins a save and a delete.

The core never imports a feature. A feature that must act when a file is
saved or deleted implements :class:`WriteHook`, and the storage that owns the
core plugs it in (``Core(..., hook=...)``). The core calls it at fixed
points, so the feature's work is ordered with the write it belongs to:

* :meth:`WriteHook.prepare`, before the lease: CPU work on the bytes in hand
  (rendering), which holds up nobody;
* :meth:`WriteHook.attach`, under the lease, after the backend stored the file:
  the record to write, and the files of the replaced version that went;
* :meth:`WriteHook.saved`, after the lease is released (queueing a task that
  takes the lease itself);
* :meth:`WriteHook.going` and :meth:`WriteHook.gone`, around a delete: the
  files that go with it, read under the lease, removed after it.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.core.files import File

from ikstorage.core.uploads import Upload
from ikstorage.records import Record

__all__ = ["WriteHook"]

P = TypeVar("P")


class WriteHook(Protocol[P]):
    """What a feature does around the core's writes; ``P`` is what ``prepare`` hands on."""

    def prepare(self, stored: str, content: File[Any], upload: Upload) -> P | None:
        """Work on ``content`` before anything is written; ``None``: nothing to do."""
        ...

    def attach(self, stored: str, prepared: P, record: Record) -> tuple[Record, list[str]]:
        """Under the lease: the record to write, and the names of files removed with the
        version it replaces (their facts are forgotten)."""
        ...

    def saved(self, name: str, prepared: P) -> None:
        """After the lease is released, for a save whose record ``attach`` made."""
        ...

    def going(self, stored: str) -> list[str]:
        """Under the lease, before a delete: the files that go with ``stored``."""
        ...

    def gone(self, names: list[str]) -> None:
        """After the delete succeeded: remove what :meth:`going` named."""
        ...
