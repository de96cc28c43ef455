"""Adapters for storages whose names are paths under a ``location``.

Django's ``FileSystemStorage`` and ``InMemoryStorage`` both resolve a name
with ``path()`` (Django's own ``safe_join``) and store it under the path
relative to ``location``: that relative path is the canonical name, so a name
the storage refuses (traversal, a null byte) raises the storage's own error,
and ``./x``, ``d//x`` and ``Path("x")`` all become the one name the file is
stored under. Both have real folders: a write changes the folders above it.
"""

from __future__ import annotations

import os
import posixpath
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from ikstorage.backends.base import class_path
from ikstorage.backends.generic import GenericAdapter
from ikstorage.backends.identity import instance_token


class LocalAdapter(GenericAdapter):
    """Keys by the path relative to ``location``, as the storage's ``_save`` names it."""

    storage: Any  # FileSystemStorage or InMemoryStorage: ``path`` and ``location``

    def identity(self) -> str | None:
        """The class, the folder the files are in and the URL they are served under."""
        storage = self.storage
        return "|".join([class_path(storage), str(storage.location), str(storage.base_url)])

    def _canonical(self, name: Any) -> str:
        full = self.storage.path(name)
        return str(os.path.relpath(full, self.storage.location)).replace(os.sep, "/")


class FileSystemAdapter(LocalAdapter):
    """``FileSystemStorage``: times from ``os.stat``, as local or UTC datetimes."""

    def modified_to_plain(self, modified: datetime) -> float | None:
        # FileSystemStorage builds its datetimes with ``datetime.fromtimestamp``:
        # aware UTC, or naive in the process's local time, which ``timestamp()`` inverts.
        return modified.timestamp()

    def modified_from_plain(self, timestamp: float) -> datetime | None:
        # As FileSystemStorage._datetime_from_timestamp does.
        return datetime.fromtimestamp(timestamp, tz=UTC if settings.USE_TZ else None)


class MemoryAdapter(LocalAdapter):
    """``InMemoryStorage``: every call is free, and ``delete`` takes a folder's contents.

    Its modified times are the ``datetime`` objects it keeps (aware or naive as
    ``USE_TZ`` was when the file changed), which no timestamp reproduces exactly:
    they are asked for each time, at no cost.
    """

    def identity(self) -> str | None:
        """Per instance: two ``InMemoryStorage`` objects hold different files.

        Its files live in this process, so its records are of no use to another
        one: the identity is the same for as long as the storage object lives,
        and never that of another object, here or in another process.
        """
        return f"{super().identity()}|instance={instance_token(self.storage)}"

    def modified_to_plain(self, modified: datetime) -> float | None:
        return None

    def deleted_with(self, name: str) -> list[str]:
        """Canonical names below ``name`` that ``delete(name)`` removes too (it is recursive)."""
        found: list[str] = []
        pending = [name]
        while pending:
            folder = pending.pop()
            try:
                folders, files = self.storage.listdir(folder)
            except (OSError, ValueError):  # a file, or nothing there
                continue
            found += [posixpath.join(folder, f) for f in files]
            children = [posixpath.join(folder, d) for d in folders]
            found += children
            pending += children
        return found
