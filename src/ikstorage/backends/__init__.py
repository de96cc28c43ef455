"""Backend adapters: the cheapest way to learn a file's metadata on each storage."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage, InMemoryStorage, Storage

from ikstorage.backends.base import Adapter
from ikstorage.backends.generic import GenericAdapter
from ikstorage.backends.local import FileSystemAdapter, MemoryAdapter

__all__ = ["Adapter", "FileSystemAdapter", "GenericAdapter", "MemoryAdapter", "adapter_for"]


def adapter_for(storage: Storage, *, probe_bytes: int, probe_limit: int) -> Adapter:
    """The most specific adapter for ``storage`` (S3, and Google Cloud Storage or
    Azure Blob Storage when django-storages' module for it is in use)."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - boto3 is a core dependency
        S3Storage = None
    if S3Storage is not None and isinstance(storage, S3Storage):
        from ikstorage.backends.s3 import S3Adapter

        return S3Adapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)
    gcs = _gcs_class()
    if gcs is not None and isinstance(storage, gcs):
        from ikstorage.backends.gcs import GCSAdapter

        return GCSAdapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)
    azure = _loaded_class("storages.backends.azure_storage", "AzureStorage")
    if azure is not None and isinstance(storage, azure):
        from ikstorage.backends.azure import AzureAdapter

        return AzureAdapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)
    if isinstance(storage, FileSystemStorage):
        return FileSystemAdapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)
    if isinstance(storage, InMemoryStorage):
        return MemoryAdapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)
    return GenericAdapter(storage, probe_bytes=probe_bytes, probe_limit=probe_limit)


def _gcs_class() -> type[Storage] | None:
    """``GoogleCloudStorage`` if it can be imported (it needs google-cloud-storage)."""
    import sys

    if "storages.backends.gcloud" not in sys.modules:
        # Never imported: no storage of that class can exist, and importing the
        # Google libraries just to find that out would cost every process ~0.3 s.
        return None
    from storages.backends.gcloud import GoogleCloudStorage

    return GoogleCloudStorage  # type: ignore[no-any-return]


def _loaded_class(module: str, name: str) -> type[Storage] | None:
    """Class ``name`` of ``module`` if that module was already imported, else ``None``
    (no storage of the class can exist; importing the SDK to find out costs time)."""
    import sys

    loaded = sys.modules.get(module)
    found: type[Storage] | None = getattr(loaded, name, None) if loaded is not None else None
    return found
