"""Two spec sets over one source (a rolling deploy) converge: neither undoes the other's work.

Two ``CachedStorage`` over one bucket and one cache, declaring different
specs, stand for the old and the new code of a deploy. Each page view is made
by a "new process" (this process's memory dropped before it), so what one
side finds is what the other left in the shared cache. A page view adds the
renditions it lacks and keeps every other one the record lists; a save of a
new version replaces them all, and a delete takes them all along.
"""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from ikstorage.profiler import count_calls
from tests.renditions_storage.helpers import SOURCE, SOURCE_V2, cached, listing

NAME = "legacy/old.jpg"
#: The old code's specs and the new code's: one spec each, neither known to the other.
OLD = {"thumb": {"fill": [200, 150], "format": "webp"}}
NEW = {"large": {"fit": [800, 800]}}
#: The same spec name declared differently by the old and the new code.
OLD_THUMB = {"thumb": {"fill": [200, 150]}}
NEW_THUMB = {"thumb": {"fill": [100, 100]}}


def view(storage: CachedStorage, spec: str) -> tuple[dict[str, int], tuple[int | None, bool]]:
    """A page showing ``spec`` of the source, in a new process: its S3 calls and what it showed."""
    ik_cache.clear_local()
    with count_calls() as calls:
        shown = storage.rendition(NAME, spec)
    return calls.s3, (shown.width, shown.fallback)


def rendition_files(s3: Any) -> list[str]:
    return [key for key in listing(s3) if key.startswith("renditions/")]


def listed(storage: CachedStorage) -> list[tuple[str, int]]:
    """``(spec, width)`` of every rendition the source's record lists."""
    ik_cache.clear_local()
    return sorted((r.spec, r.width) for r in storage.metadata(NAME).renditions)


def test_two_spec_sets_stop_rendering_and_deleting_after_one_render_each(
    s3: Any, s3_storage: Any
) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    old, new = cached(s3_storage, specs=OLD), cached(s3_storage, specs=NEW)
    rounds = [(view(old, "thumb"), view(new, "large")) for _ in range(3)]
    # Round 1: the old side probes (one GET, read on through the source) and renders its
    # one spec; the new side finds the record, downloads and renders its own. Nothing is
    # deleted, then nothing is done.
    assert [(o[0], n[0]) for o, n in rounds] == [
        ({"GetObject": 1, "PutObject": 1}, {"GetObject": 1, "PutObject": 1}),
        ({}, {}),
        ({}, {}),
    ]
    assert {(o[1], n[1]) for o, n in rounds} == {((200, False), (800, False))}
    assert listed(old) == [("large", 800), ("thumb", 200)]
    assert len(rendition_files(s3)) == 2


def test_one_spec_name_declared_two_ways_keeps_both_and_each_side_shows_its_own(
    s3: Any, s3_storage: Any
) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    old, new = cached(s3_storage, specs=OLD_THUMB), cached(s3_storage, specs=NEW_THUMB)
    rounds = [(view(old, "thumb"), view(new, "thumb")) for _ in range(3)]
    assert [(o[0], n[0]) for o, n in rounds] == [
        ({"GetObject": 1, "PutObject": 1}, {"GetObject": 1, "PutObject": 1}),
        ({}, {}),
        ({}, {}),
    ]
    assert {(o[1], n[1]) for o, n in rounds} == {((200, False), (100, False))}
    assert listed(new) == [("thumb", 100), ("thumb", 200)]
    assert len(rendition_files(s3)) == 2


def test_a_save_of_a_new_version_replaces_the_renditions_of_every_spec(
    s3: Any, s3_storage: Any
) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    old, new = cached(s3_storage, specs=OLD), cached(s3_storage, specs=NEW)
    view(old, "thumb"), view(new, "large")
    before = rendition_files(s3)
    ik_cache.clear_local()
    with count_calls() as calls:
        old.save(NAME, ContentFile(SOURCE_V2))  # S3Storage overwrites by default
    # The source, the old side's one rendition, and one DeleteObjects for both of v1's.
    assert calls.s3 == {"PutObject": 2, "DeleteObjects": 1}
    assert listed(old) == [("thumb", 200)]
    assert not set(rendition_files(s3)) & set(before)
    # The other side renders its own spec of the new version once.
    assert view(new, "large") == ({"GetObject": 1, "PutObject": 1}, (800, False))
    assert view(new, "large") == ({}, (800, False))
    assert len(rendition_files(s3)) == 2


def test_a_delete_removes_the_renditions_of_every_spec_the_record_lists(
    s3: Any, s3_storage: Any
) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    old, new = cached(s3_storage, specs=OLD), cached(s3_storage, specs=NEW)
    view(old, "thumb"), view(new, "large")
    ik_cache.clear_local()
    with count_calls() as calls:
        new.delete(NAME)
    assert calls.s3 == {"DeleteObject": 1, "DeleteObjects": 1}
    assert listing(s3) == []


def test_a_delete_by_a_storage_without_specs_removes_the_renditions_too(
    s3: Any, s3_storage: Any
) -> None:
    """Old code that declared no spec yet (renditions added by this deploy)."""
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    with_specs, without = cached(s3_storage, specs=NEW), cached(s3_storage, specs={})
    view(with_specs, "large")
    ik_cache.clear_local()
    with count_calls() as calls:
        without.delete(NAME)
    assert calls.s3 == {"DeleteObject": 1, "DeleteObjects": 1}
    assert listing(s3) == []
