"""The storages a state machine compares: cached, wrapped, and an uncached twin.

``cached`` and ``wrapped`` hold the same files, so every read can be asked of
both at the same moment. Writes cannot be asked twice of the same files, so
each save and delete is repeated on ``twin``, an uncached storage of the same
class and options over other files: what the twin returns or raises is what
the wrapped storage would have done without ``CachedStorage`` in front.

Each example of a machine starts from empty files and an empty cache.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.cache import caches
from django.core.files.storage import FileSystemStorage, Storage

from ikstorage import CachedStorage
from ikstorage.cache import clear_local


class World:
    """Three storages for one example, and what to undo when it ends."""

    def __init__(self, cached: CachedStorage, wrapped: Storage, twin: Storage) -> None:
        self.cached, self.wrapped, self.twin = cached, wrapped, twin

    def close(self) -> None:
        clear_local()


def _fresh_cache() -> None:
    """Records of an earlier example must not answer for this one."""
    clear_local()
    caches["default"].clear()


class FileSystemWorld(World):
    """``FileSystemStorage`` in a fresh directory, ``allow_overwrite`` as given."""

    def __init__(self, overwrite: bool) -> None:
        _fresh_cache()
        self.root = Path(tempfile.mkdtemp(prefix="ikstorage-stateful-"))

        def storage(folder: str) -> FileSystemStorage:
            (self.root / folder).mkdir(exist_ok=True)
            return FileSystemStorage(
                location=str(self.root / folder), base_url="/media/", allow_overwrite=overwrite
            )

        cached = CachedStorage(storage=storage("media"), cache="default")
        super().__init__(cached, storage("media"), storage("twin"))

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.root, ignore_errors=True)


class S3Worlds:
    """django-storages' ``S3Storage`` on moto in-process, ``file_overwrite`` as given.

    Call inside an active ``mock_aws`` with the bucket ``media`` created (the
    ``s3`` fixture). A ``S3Storage`` builds its boto3 session and clients on
    first use, which costs more than a whole example, so the storages are made
    once per overwrite setting and the buckets emptied between examples;
    ``CachedStorage`` itself is new in every example. URLs are unsigned
    (``querystring_auth=False``): a signed URL carries its signing time, so
    two calls of the wrapped storage itself never agree.
    """

    buckets = ("media", "twin")

    def __init__(self, client: Any) -> None:
        self.client = client
        client.create_bucket(Bucket="twin")
        self._storages: dict[bool, tuple[Storage, Storage, Storage]] = {}

    def _storage(self, bucket: str, overwrite: bool) -> Storage:
        from storages.backends.s3 import S3Storage

        storage: Storage = S3Storage(
            bucket_name=bucket, querystring_auth=False, file_overwrite=overwrite
        )
        return storage

    def __call__(self, overwrite: bool) -> World:
        _fresh_cache()
        for bucket in self.buckets:
            listed = self.client.list_objects_v2(Bucket=bucket).get("Contents", [])
            if listed:
                keys = [{"Key": item["Key"]} for item in listed]
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
        if overwrite not in self._storages:
            self._storages[overwrite] = (
                self._storage("media", overwrite),
                self._storage("media", overwrite),
                self._storage("twin", overwrite),
            )
        behind, wrapped, twin = self._storages[overwrite]
        return World(CachedStorage(storage=behind, cache="default"), wrapped, twin)
