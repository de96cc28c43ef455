"""Storages ikstorage has no adapter for, to test the identities it derives for them.

Both keep their files in a folder through a ``FileSystemStorage`` they hold
(not one they are), so ikstorage sees them as any third-party storage: the
generic adapter, the public Storage API. ``FolderStorage`` can be
deconstructed (like most storages: Django's ``deconstructible``);
``UnnamedStorage`` cannot, so nothing about it is the same in two processes.
Importable by a child process (nothing here needs Django's settings).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.deconstruct import deconstructible


class UnnamedStorage(Storage):
    """Files in ``location``; no ``deconstruct()``. Extra keyword arguments are kept unused."""

    def __init__(self, location: str, base_url: str = "/files/", **extra: Any) -> None:
        self.inner = FileSystemStorage(location=location, base_url=base_url)
        self.extra = extra

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        return self.inner.open(name, mode)

    def _save(self, name: str, content: File[Any]) -> str:
        return self.inner.save(name, content)

    def delete(self, name: str) -> None:
        self.inner.delete(name)

    def exists(self, name: str) -> bool:
        return self.inner.exists(name)

    def size(self, name: str) -> int:
        return self.inner.size(name)

    def url(self, name: str | None) -> str:
        return self.inner.url(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.inner.listdir(path)

    def get_modified_time(self, name: str) -> datetime:
        return self.inner.get_modified_time(name)


@deconstructible
class FolderStorage(UnnamedStorage):
    """As :class:`UnnamedStorage`, and deconstructible: known by its arguments."""
