"""Overwriting or deleting a source leaves no orphan rendition where its record is known.

S3Storage overwrites by default (``file_overwrite=True``): a save under a
taken name renders the new version's renditions and deletes the old ones
(one ``DeleteObjects``); a delete takes the renditions along. Each test
lists the bucket: whatever is in it must be listed by a record.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.files.base import ContentFile

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from ikstorage.exceptions import MissingRenditionError
from ikstorage.profiler import count_calls
from tests.renditions.sources import photo
from tests.renditions_storage.helpers import OUTPUTS, SOURCE, SOURCE_V2, cached, listing

NAME = "photos/a.jpg"


def rendition_names(storage: CachedStorage, name: str = NAME) -> list[str]:
    return sorted(r.name for r in storage.metadata(name).renditions)


@pytest.mark.parametrize("new_process", [False, True], ids=["same-process", "new-process"])
def test_overwrite_renders_the_new_version_and_deletes_the_old(
    s3: Any, s3_storage: Any, new_process: bool
) -> None:
    storage = cached(s3_storage)
    storage.save(NAME, ContentFile(SOURCE))
    old = rendition_names(storage)
    old_thumb = storage.rendition(NAME, "thumb").url
    if new_process:
        ik_cache.clear_local()  # the record is known to the shared cache only
    with count_calls() as calls:
        assert storage.save(NAME, ContentFile(SOURCE_V2)) == NAME
    assert calls.s3 == {"PutObject": 1 + OUTPUTS, "DeleteObjects": 1}
    new = rendition_names(storage)
    assert len(new) == OUTPUTS
    assert not set(new) & set(old)
    assert listing(s3) == sorted([NAME, *new])
    assert s3.get_object(Bucket="media", Key=NAME)["Body"].read() == SOURCE_V2
    thumb = storage.rendition(NAME, "thumb")
    assert thumb.url != old_thumb
    assert (thumb.width, thumb.height, thumb.fallback) == (200, 150, False)
    assert (storage.rendition(NAME, "large").width, storage.size(NAME)) == (800, len(SOURCE_V2))


def test_overwrite_with_the_same_bytes_keeps_the_same_renditions(s3: Any, s3_storage: Any) -> None:
    storage = cached(s3_storage)
    storage.save(NAME, ContentFile(SOURCE))
    before = listing(s3)
    with count_calls() as calls:
        storage.save(NAME, ContentFile(SOURCE))
    # Content-addressed names: the same files, written again, and nothing to delete.
    assert calls.s3 == {"PutObject": 1 + OUTPUTS}
    assert listing(s3) == before == sorted([NAME, *rendition_names(storage)])


def test_overwrite_with_bytes_that_cannot_be_rendered_removes_the_old_renditions(
    s3: Any, s3_storage: Any
) -> None:
    storage = cached(s3_storage)
    storage.save(NAME, ContentFile(SOURCE))
    with count_calls() as calls:
        storage.save(NAME, ContentFile(b"not a jpeg at all"))
    assert calls.s3 == {"PutObject": 1, "DeleteObjects": 1}
    assert listing(s3) == [NAME]
    record = storage.metadata(NAME)
    assert (record.renditions, record.rendition_error) == ((), "not-an-image")


@pytest.mark.parametrize("new_process", [False, True], ids=["same-process", "new-process"])
def test_delete_takes_the_renditions_along(s3: Any, s3_storage: Any, new_process: bool) -> None:
    storage = cached(s3_storage, missing_renditions="error")
    storage.save(NAME, ContentFile(SOURCE))
    assert len(listing(s3)) == 1 + OUTPUTS
    if new_process:
        ik_cache.clear_local()
    with count_calls() as calls:
        storage.delete(NAME)
    assert calls.s3 == {"DeleteObject": 1, "DeleteObjects": 1}
    assert listing(s3) == []
    with count_calls() as calls:
        assert storage.exists(NAME) is False
        with pytest.raises(MissingRenditionError) as caught:
            storage.rendition(NAME, "thumb")
    assert calls.s3 == {}
    assert caught.value.reason == "missing source"


def test_a_deleted_source_leaves_no_renditions_behind_after_an_overwrite(
    s3: Any, s3_storage: Any
) -> None:
    storage = cached(s3_storage)
    storage.save(NAME, ContentFile(SOURCE))
    storage.save(NAME, ContentFile(SOURCE_V2))
    storage.delete(NAME)
    assert listing(s3) == []


def test_delete_forgets_the_records_of_its_renditions(s3: Any, s3_storage: Any) -> None:
    storage = cached(s3_storage)
    storage.save(NAME, ContentFile(SOURCE))
    names = rendition_names(storage)
    assert [storage.exists(n) for n in names] == [True] * OUTPUTS  # records filled by probes
    storage.delete(NAME)
    assert listing(s3) == []
    with count_calls() as calls:
        answers = [storage.exists(n) for n in names]
    assert answers == [False] * OUTPUTS
    assert calls.s3 in ({}, {"GetObject": OUTPUTS})  # tombstones, or forgotten and probed


def test_two_overwrites_at_once_leave_no_orphans(s3: Any, s3_storage: Any) -> None:
    storage = cached(s3_storage)
    storage.save(NAME, ContentFile(SOURCE))
    # Both writers have rendered their version before either takes the write lease:
    # the rendering happens outside the lease on purpose (CPU work holds up nobody).
    both_rendered = threading.Barrier(2, timeout=10)
    renditions = storage.core.hook
    prepare = renditions.prepare

    def prepare_then_wait(*args: Any) -> Any:
        prepared = prepare(*args)
        both_rendered.wait()
        return prepared

    renditions.prepare = prepare_then_wait
    errors: list[BaseException] = []

    def overwrite(data: bytes) -> None:
        try:
            storage.save(NAME, ContentFile(data))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=overwrite, args=(d,)) for d in (SOURCE_V2, photo((900, 600)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    kept = s3.get_object(Bucket="media", Key=NAME)["Body"].read()
    assert storage.metadata(NAME).size == len(kept)
    assert listing(s3) == sorted([NAME, *rendition_names(storage)])


def test_a_changed_spec_leaves_no_orphans(s3: Any, s3_storage: Any) -> None:
    before = cached(s3_storage, specs={"thumb": {"fill": [200, 150], "format": "webp"}})
    before.save(NAME, ContentFile(SOURCE))
    after = cached(s3_storage, specs={"thumb": {"fill": [100, 100], "format": "webp"}})
    with count_calls() as calls:
        shown = after.rendition(NAME, "thumb")
    assert (shown.width, shown.height, shown.fallback) == (100, 100, False)
    assert calls.s3["PutObject"] == 1
    after.delete(NAME)
    assert listing(s3) == []
