"""A read that straddles the cache's recovery must not undo a delete made during the outage.

Outside an outage a delete leaves a tombstone, and a slower reader that
probed before the delete cannot put "exists" back: its fill is an ``add``.
During an outage the tombstone cannot be written; on recovery the record is
deleted instead, and a deleted key does not stop an ``add``. The reader
below probes the file before the delete (during the outage) and fills its
record after the recovery: L2 then says the deleted file exists, for a day.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.test import override_settings

from ikstorage import CachedStorage
from tests.images import image_bytes
from tests.resilience import caches as configs
from tests.resilience.truth import l2_disagreements
from tests.servers import Server

RETRY_AFTER = 0.3


class PausingStorage(FileSystemStorage):
    """Pauses the first read of an opened file until ``resume`` is set (a slow probe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading = threading.Event()
        self.resume = threading.Event()
        self.pause_next = False

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        file = super()._open(name, mode)
        if self.pause_next:
            self.pause_next = False
            read = file.file.read

            def slow_read(*args: Any) -> bytes:
                self.reading.set()
                assert self.resume.wait(10)
                return read(*args)  # the descriptor is open: the bytes are still there

            file.file = _Reader(file.file, slow_read)
        return file


class _Reader:
    def __init__(self, file: Any, read: Any) -> None:
        self._file, self.read = file, read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


@pytest.mark.redis
def test_a_slow_reader_cannot_refill_a_file_deleted_during_the_outage(
    redis_server: Server, tmp_path: Path
) -> None:
    fs = PausingStorage(location=str(tmp_path / "media"), base_url="/media/")
    Path(fs.location).mkdir(parents=True)
    (Path(fs.location) / "x.jpg").write_bytes(image_bytes((9, 9)))
    with override_settings(
        CACHES={"default": configs.locmem(), "shared": configs.redis(redis_server.port)},
        IKSTORAGE_CACHE_RETRY_AFTER=RETRY_AFTER,
    ):
        storage = CachedStorage(storage=fs, cache="shared", local_timeout=0)
        redis_server.stop()
        fs.pause_next = True
        reader = threading.Thread(target=storage.exists, args=("x.jpg",))
        reader.start()  # probes x.jpg: exists, size, then pauses reading its header
        assert fs.reading.wait(10)
        storage.delete("x.jpg")  # the tombstone cannot reach Redis: remembered
        redis_server.start()
        time.sleep(RETRY_AFTER + 0.05)
        assert storage.exists("other.jpg") is False  # recovered: the pending keys are deleted
        fs.resume.set()
        reader.join(10)
        assert storage.exists("x.jpg") is False
        assert l2_disagreements(storage, ["x.jpg"]) == []
