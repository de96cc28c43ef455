"""``--refresh`` and a save of the same name at the same moment: the save's record stays.

The save is made to land exactly between the refresh's probe and its write:
the probe is wrapped so that, once it has its answer, it starts the save in
another thread and waits until that save either finished or is waiting for
the name's write lease. No sleeping: the order is forced.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.records import Record
from tests.images import image_bytes
from tests.prewarm.conftest import BUCKET, prewarm, put_images
from tests.prewarm.test_renditions import CACHES, PER_SOURCE, storages_with_specs

NAME = "legacy/00.jpg"


class SaveBetween:
    """Wraps ``core.probe``: after the first probe of ``NAME``, a save of it in a thread."""

    def __init__(self, storage: CachedStorage) -> None:
        self.storage = storage
        self.probe = storage.core.probe
        self.lease_key = storage.core.keys.lease(storage.core.canonical(NAME))
        self.thread: threading.Thread | None = None
        #: Set when the save finished, or when it found the name's lease taken.
        self.stepped = threading.Event()
        self.saved: list[str] = []
        cache = storage.core.cache
        add_raw = cache.add_raw

        def watched_add_raw(key: str, value: str, timeout: float) -> bool | None:
            added = add_raw(key, value, timeout)
            if (
                key == self.lease_key
                and added is False
                and threading.current_thread() is self.thread
            ):
                self.stepped.set()  # the save waits for the refresh to release the lease
            return added

        cache.add_raw = watched_add_raw  # type: ignore[method-assign]

    def __call__(self, name: str) -> Record:
        record = self.probe(name)
        if name == NAME and self.thread is None:
            self.thread = threading.Thread(target=self._save)
            self.thread.start()
            assert self.stepped.wait(30)
        return record

    def _save(self) -> None:
        try:
            self.saved.append(self.storage.save(NAME, ContentFile(image_bytes((90, 50)))))
        finally:
            self.stepped.set()


def test_a_save_during_a_refresh_keeps_its_record(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    put_images(s3, [NAME], size=(80, 60))
    with override_settings(STORAGES=storages_with_specs(), CACHES=CACHES):
        caches["default"].clear()
        assert prewarm("--prefix", "legacy/", "--renditions").returncode == 0
        storage = storages["default"]
        assert isinstance(storage, CachedStorage)
        before = storage.metadata(NAME).renditions
        assert len(before) == PER_SOURCE
        save = SaveBetween(storage)
        monkeypatch.setattr(storage.core, "probe", save)
        clear_local()
        run = prewarm("--prefix", "legacy/", "--refresh")
        assert save.thread is not None
        save.thread.join(30)
        assert run.returncode == 0
        assert save.saved == [NAME]
        clear_local()
        record = storage.core.shared_record(storage.core.canonical(NAME))
        assert record is not None
        # The save's record: its size, its dimensions, its renditions (the old ones are gone).
        assert record.dimensions == (90, 50)
        assert record.size == s3.head_object(Bucket=BUCKET, Key=NAME)["ContentLength"]
        assert len(record.renditions) == PER_SOURCE
        assert not {r.name for r in record.renditions} & {r.name for r in before}
        for rendition in record.renditions:
            s3.head_object(Bucket=BUCKET, Key=rendition.name)  # listed, so it exists
        for rendition in before:
            with pytest.raises(s3.exceptions.ClientError):
                s3.head_object(Bucket=BUCKET, Key=rendition.name)


def test_refresh_uses_the_listing_only_where_it_agrees_with_the_record(
    cached: Any, s3: Any
) -> None:
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"docs/{i}.txt", Body=b"x" * (i + 1))
    assert prewarm("--prefix", "docs/")["s3"] == {"ListObjectsV2": 1}
    # Unchanged files: the listing is their record, nothing more is asked.
    clear_local()
    again = prewarm("--prefix", "docs/", "--refresh")
    assert again["s3"] == {"ListObjectsV2": 1}
    assert again["from_listing"] == 3
    # One changed behind ikstorage's back, one saved through it (its record has no ETag
    # to compare): the listing may be older than the record, so those two are probed.
    s3.put_object(Bucket=BUCKET, Key="docs/0.txt", Body=b"changed")
    cached.save("docs/1.txt", ContentFile(b"saved"))
    clear_local()
    changed = prewarm("--prefix", "docs/", "--refresh")
    assert changed["s3"] == {"ListObjectsV2": 1, "HeadObject": 2}
    assert (changed["from_listing"], changed["probed"]) == (1, 2)
    clear_local()
    assert cached.size("docs/0.txt") == 7
    assert cached.size("docs/1.txt") == 5
