"""``ikstorage_prune``: the renditions no spec of this configuration makes, counted, then removed.

The old code of a deploy declared ``thumb`` as a 200x150 WebP and a
``large``; the new code declares ``thumb`` as 100x100 (another fingerprint)
for ``legacy/*`` only. Both rendered every source (a page view never removes
another's renditions). The command, run with the new configuration, finds the
old ``thumb`` and ``large`` of each source; a dry run (the default) changes
nothing, ``--delete`` drops them from the records and deletes the files in one
``DeleteObjects`` per batch.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from ikstorage.lease import Lease
from ikstorage.profiler import count_calls
from tests.renditions.sources import photo
from tests.renditions_storage.helpers import listing

OLD = {"thumb": {"fill": [200, 150], "format": "webp"}, "large": {"fit": [800, 800]}}
NEW = {"thumb": {"fill": [100, 100], "format": "webp", "match": ["legacy/*"]}}
SOURCES = ["legacy/a.jpg", "legacy/b.jpg", "legacy/c.jpg"]
#: In the bucket, never read through ikstorage: the cache holds no record of it.
UNREAD = "legacy/unread.jpg"
#: Small: the renders cost little, and no spec enlarges it (the new thumb is 100 wide).
SOURCE = photo((320, 240))


def config(location: str) -> dict[str, Any]:
    s3 = {"bucket_name": "media", "querystring_auth": False, "location": location}
    return {
        "s3": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3},
        "default": {
            "BACKEND": "ikstorage.CachedStorage",
            "OPTIONS": {"storage": "s3", "specs": NEW, "write_lease_timeout": 1},
        },
    }


def prune(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("ikstorage_prune", *args, "--json", stdout=out)
    summary: dict[str, Any] = json.loads(out.getvalue())
    return summary


LOCATIONS = pytest.mark.parametrize(
    "deployed", ["", "media"], ids=["no-location", "location"], indirect=True
)


@pytest.fixture
def deployed(request: pytest.FixtureRequest, s3: Any) -> Iterator[tuple[CachedStorage, str]]:
    """Both spec sets rendered for every source; the new configuration in ``STORAGES``.

    The ``S3Storage``'s ``location`` is the parameter (none unless given).
    """
    location = getattr(request, "param", "")
    base = f"{location}/" if location else ""
    for name in [*SOURCES, UNREAD]:
        s3.put_object(Bucket="media", Key=base + name, Body=SOURCE)
    with override_settings(STORAGES=config(location)):
        new = storages["default"]
        assert isinstance(new, CachedStorage)
        old = CachedStorage(storage="s3", specs=OLD)  # the old code: the same alias
        for name in SOURCES:
            old.rendition(name, "thumb")
            new.rendition(name, "thumb")
        yield new, base


def renditions_in_bucket(s3: Any) -> list[str]:
    return [key for key in listing(s3) if "/renditions/" in f"/{key}"]


@LOCATIONS
def test_a_dry_run_counts_and_changes_nothing(s3: Any, deployed: tuple[CachedStorage, str]) -> None:
    new, _ = deployed
    before = renditions_in_bucket(s3)
    assert len(before) == 3 * len(SOURCES)
    with count_calls() as calls:
        summary = prune("--prefix", "legacy/")
    assert calls.s3 == summary["s3"] == {"ListObjectsV2": 1}
    thumb = new.options.specs["thumb"]
    assert summary["dry_run"] is True
    assert (summary["sources"], summary["not_cached"]) == (4, 1)
    assert (summary["with_undeclared"], summary["renditions"], summary["removed"]) == (3, 6, 0)
    assert sorted(summary["by_spec"].values()) == [3, 3]
    assert not any(thumb.fingerprint()[:8] in spec for spec in summary["by_spec"])
    assert renditions_in_bucket(s3) == before
    ik_cache.clear_local()
    assert all(len(new.metadata(name).renditions) == 3 for name in SOURCES)


@LOCATIONS
def test_delete_removes_exactly_the_undeclared_renditions(
    s3: Any, deployed: tuple[CachedStorage, str]
) -> None:
    new, base = deployed
    kept = {name: new.rendition(name, "thumb").name for name in SOURCES}
    with count_calls() as calls:
        summary = prune("--prefix", "legacy/", "--delete")
    # One listing page, one DeleteObjects for the batch: six files.
    assert calls.s3 == summary["s3"] == {"ListObjectsV2": 1, "DeleteObjects": 1}
    assert (summary["with_undeclared"], summary["renditions"], summary["removed"]) == (3, 6, 6)
    assert renditions_in_bucket(s3) == sorted(base + name for name in kept.values())
    assert listing(s3) == sorted(
        [*(base + n for n in [*SOURCES, UNREAD]), *(base + n for n in kept.values())]
    )
    # The records list the new thumbnails only, and a page shows them with no S3 call.
    ik_cache.clear_local()
    with count_calls() as calls:
        for name in SOURCES:
            shown = new.rendition(name, "thumb")
            assert (shown.name, shown.width, shown.fallback) == (kept[name], 100, False)
            assert [r.name for r in new.metadata(name).renditions] == [kept[name]]
    assert calls.s3 == {}
    assert prune("--prefix", "legacy/")["renditions"] == 0


def test_a_walk_of_the_whole_storage_skips_the_rendition_files(
    s3: Any, deployed: tuple[CachedStorage, str]
) -> None:
    summary = prune("--prefix", "")
    assert (summary["sources"], summary["renditions"]) == (4, 6)
    assert summary["s3"] == {"ListObjectsV2": 1}


def test_a_source_being_written_is_left_as_it_is_and_reported(
    s3: Any, deployed: tuple[CachedStorage, str]
) -> None:
    new, _ = deployed
    held = Lease(new.core.cache, new.core.keys.lease(new.core.canonical(SOURCES[0])), ttl=30)
    held.acquire(wait=0)  # a save of it is under way elsewhere
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 sources were being written"):
        call_command("ikstorage_prune", "--prefix", "legacy/", "--delete", stdout=out)
    held.release()
    assert "files deleted" in out.getvalue()
    ik_cache.clear_local()
    assert len(new.metadata(SOURCES[0]).renditions) == 3
    assert len(renditions_in_bucket(s3)) == 3 + 2 * 1
    assert prune("--prefix", "legacy/", "--delete")["removed"] == 2


def test_a_dry_run_prints_the_counts(deployed: tuple[CachedStorage, str]) -> None:
    out = io.StringIO()
    call_command("ikstorage_prune", "--prefix", "legacy/", stdout=out)
    text = out.getvalue()
    assert text.startswith("dry run: nothing removed (--delete removes them)\n")
    assert "  undeclared renditions       6 (" in text
    assert "  S3 calls                    ListObjectsV2 1\n" in text
