"""Backend adapters: the cheapest way to learn a file's metadata on each storage."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage, InMemoryStorage, Storage

from ikstorage.backends.base import Adapter
from ikstorage.backends.generic import GenericAdapter
from ikstorage.backends.local import FileSystemAdapter, MemoryAdapter

__all__ = ["Adapter", "FileSystemAdapter", "GenericAdapter", "MemoryAdapter", "adapter_for"]


def adapter_for(storage: Storage, *, probe_bytes: int, probe_limit: int) -> Adapter:
    """The most specific adapter for ``storage`` (S3 when django-storages is installed)."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - boto3 is a core dependency
        S3Storage = None
    if S3Storage is not None and isinstance(storage, S3Storage):
        from ikstorage.backends.s3 import S3Adapter

        return S3Adapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)
    if isinstance(storage, FileSystemStorage):
        return FileSystemAdapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)
    if isinstance(storage, InMemoryStorage):
        return MemoryAdapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)
    return GenericAdapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)
