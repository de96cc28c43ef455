"""``--prefix`` on SeaweedFS: ListObjectsV2 pages (records for free) and one ranged GET per image.

Requests are counted at the HTTP level by the forwarder in front of SeaweedFS,
and must equal botocore's count that the command reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.storage import storages
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from tests.images import image_bytes
from tests.prewarm.conftest import prewarm
from tests.prewarm.layout import IMAGES, OTHERS, assert_answered_without_requests
from tests.seaweedfs_server import BUCKET, SeaweedFS

pytestmark = pytest.mark.server


def seaweedfs_storages(seaweedfs: SeaweedFS, **options: Any) -> dict[str, Any]:
    s3 = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": seaweedfs.options(**options)}
    return {
        "s3": s3,
        "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "s3"}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def cached(seaweedfs: SeaweedFS) -> Iterator[CachedStorage]:
    """A bucket with files put behind ikstorage's back, and ``STORAGES["default"]``."""
    direct = seaweedfs.client()
    body = image_bytes((33, 22))
    for name in IMAGES:
        direct.put_object(Bucket=BUCKET, Key=name, Body=body)
    for i, name in enumerate(OTHERS):
        direct.put_object(Bucket=BUCKET, Key=name, Body=b"x" * (100 + i))
    direct.put_object(Bucket=BUCKET, Key="p/", Body=b"")  # a "folder" marker
    direct.put_object(Bucket=BUCKET, Key="other/outside.jpg", Body=image_bytes((5, 5)))
    direct.put_object(Bucket=BUCKET, Key="pq.jpg", Body=image_bytes((5, 5)))
    with override_settings(STORAGES=seaweedfs_storages(seaweedfs)):
        storage = storages["default"]
        assert isinstance(storage, CachedStorage)
        yield storage


def test_listing_fills_non_images_for_free(seaweedfs: SeaweedFS, cached: CachedStorage) -> None:
    start = len(seaweedfs.requests)
    with seaweedfs.counting() as requests:
        run = prewarm("--prefix", "p/")
    assert run.returncode == 0, run.stderr
    # One listing page for 34 keys; a ranged GET per image; nothing for the 13 others.
    assert requests == run["s3"] == {"ListObjectsV2": 1, "GetObject": 20}
    assert seaweedfs.ranges(start) == ["bytes=0-65535"] * 20
    assert (run["files_seen"], run["from_listing"], run["probed"]) == (33, 13, 20)
    assert_answered_without_requests(cached, storages["s3"], seaweedfs.counting)


def test_listed_record_is_what_the_probe_learns(cached: CachedStorage) -> None:
    """Size, ETag and modified time from the listing equal the HEAD's (and S3Storage's)."""
    assert prewarm("--prefix", "p/docs/").returncode == 0
    plain = storages["s3"]
    for name in OTHERS[:10]:
        listed = cached.core.cached_records([name])[name]
        probed = cached.core.probe(name)
        assert (listed.exists, listed.size, listed.etag, listed.modified) == (
            probed.exists,
            probed.size,
            probed.etag,
            probed.modified,
        )
        assert cached.get_modified_time(name) == plain.get_modified_time(name)
        assert cached.size(name) == plain.size(name)


def test_pages_follow_the_batch_size(seaweedfs: SeaweedFS, cached: CachedStorage) -> None:
    with seaweedfs.counting() as requests:
        run = prewarm("--prefix", "p/", "--batch-size", "10")
    assert run.returncode == 0, run.stderr
    # 34 keys (the marker included) in pages of 10: four listing calls.
    assert requests == run["s3"] == {"ListObjectsV2": 4, "GetObject": 20}
    ik_cache.clear_local()
    with seaweedfs.counting() as requests:
        again = prewarm("--prefix", "p/", "--batch-size", "10")
    assert requests == {"ListObjectsV2": 4}
    assert again["already_cached"] == 33


def test_location_is_applied(seaweedfs: SeaweedFS) -> None:
    direct = seaweedfs.client()
    for key in ("site/p/a.jpg", "site/p/b.jpg", "p/not-in-location.jpg"):
        direct.put_object(Bucket=BUCKET, Key=key, Body=image_bytes((7, 5)))
    direct.put_object(Bucket=BUCKET, Key="site/p/c.txt", Body=b"abc")
    with override_settings(STORAGES=seaweedfs_storages(seaweedfs, location="site")):
        storage = storages["default"]
        with seaweedfs.counting() as requests:
            run = prewarm("--prefix", "p/")
        assert requests == {"ListObjectsV2": 1, "GetObject": 2}
        assert run["files_seen"] == 3
        ik_cache.clear_local()
        with seaweedfs.counting() as requests:
            assert storage.image_dimensions("p/a.jpg") == (7, 5)
            assert storage.size("p/c.txt") == 3
        assert requests == {}
        assert not storage.core.cached_records(["p/not-in-location.jpg"])


def test_listed_names_are_decoded(seaweedfs: SeaweedFS) -> None:
    """Listings come URL-encoded (``EncodingType=url``): the records are under the names."""
    names = ["u/ü фото 😀.txt", "u/a+b c%2F.txt", "u/x.jpg"]
    direct = seaweedfs.client()
    for name in names:
        direct.put_object(Bucket=BUCKET, Key=name, Body=b"abc" if name.endswith(".txt") else b"")
    with override_settings(STORAGES=seaweedfs_storages(seaweedfs)):
        storage = storages["default"]
        with seaweedfs.counting() as requests:
            run = prewarm("--prefix", "u/")
        # The empty image: a 416, then a HEAD for its ETag and modified time.
        assert requests == {"ListObjectsV2": 1, "GetObject": 1, "HeadObject": 1}
        assert (run["files_seen"], run["from_listing"]) == (3, 2)
        ik_cache.clear_local()
        with seaweedfs.counting() as requests:
            assert [storage.size(name) for name in names] == [3, 3, 0]
        assert requests == {}
