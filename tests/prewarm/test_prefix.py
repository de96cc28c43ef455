"""Names from a walk of the storage: S3 listings (records for free) and ``listdir`` walks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import storages
from django.test import override_settings
from storages.backends.s3 import S3Storage

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from ikstorage.prewarm.listing import WalkStream
from ikstorage.profiler import count_calls
from tests.conftest import CountingStorage
from tests.images import image_bytes
from tests.prewarm.conftest import BUCKET, prewarm, put_images, s3_storages

IMAGES = [f"p/{i:02d}.jpg" for i in range(20)]
OTHERS = [f"p/docs/{i}.txt" for i in range(10)] + [f"p/video/{i}.mp4" for i in range(3)]


@pytest.fixture
def bucket(cached: CachedStorage, s3: Any) -> Any:
    put_images(s3, IMAGES, (33, 22))
    for i, name in enumerate(OTHERS):
        s3.put_object(Bucket=BUCKET, Key=name, Body=b"x" * (100 + i))
    s3.put_object(Bucket=BUCKET, Key="p/", Body=b"")  # a "folder" marker
    s3.put_object(Bucket=BUCKET, Key="other/outside.jpg", Body=image_bytes((5, 5)))
    return s3


def test_listing_fills_non_images_for_free(bucket: Any, cached: CachedStorage) -> None:
    with count_calls() as calls:
        run = prewarm("--prefix", "p/")
    assert run.returncode == 0, run.stderr
    # One listing page for 34 keys; a ranged GET per image; nothing for the 13 others.
    assert calls.s3 == run["s3"] == {"ListObjectsV2": 1, "GetObject": 20}
    assert run["files_seen"] == 33
    assert run["from_listing"] == 13
    assert run["probed"] == 20
    assert run["records_written"] == 33
    ik_cache.clear_local()
    with count_calls() as calls:
        assert [cached.size(name) for name in OTHERS] == [100 + i for i in range(13)]
        assert all(cached.exists(name) for name in [*IMAGES, *OTHERS])
        assert cached.image_dimensions(IMAGES[0]) == (33, 22)
    assert calls.s3 == {}
    assert not cached.core.cached_records(["other/outside.jpg"])


def test_listed_record_is_what_the_probe_learns(bucket: Any, cached: CachedStorage) -> None:
    """Size, ETag and modified time from the listing equal the HEAD's (and S3Storage's)."""
    assert prewarm("--prefix", "p/docs/").returncode == 0
    plain = S3Storage(bucket_name=BUCKET, querystring_auth=False)
    for name in OTHERS[:10]:
        listed = cached.core.cached_records([name])[name]
        probed = cached.core.probe(name)
        assert (listed.exists, listed.size, listed.etag, listed.modified) == (
            probed.exists,
            probed.size,
            probed.etag,
            probed.modified,
        )
        assert listed.dimensions_known is probed.dimensions_known is False
        assert cached.get_modified_time(name) == plain.get_modified_time(name)
        assert cached.size(name) == plain.size(name)


def test_pages_of_the_listing(bucket: Any) -> None:
    with count_calls() as calls:
        run = prewarm("--prefix", "p/", "--batch-size", "10")
    # 34 keys (the marker included) in pages of 10: four listing calls.
    assert calls.s3 == {"ListObjectsV2": 4, "GetObject": 20}
    assert run["cache_round_trips"] == {"get": 1, "get_many": 4, "add": 33}


def test_a_thousand_and_one_keys_are_two_listing_calls(cached: CachedStorage, s3: Any) -> None:
    for i in range(1001):
        s3.put_object(Bucket=BUCKET, Key=f"k/{i:04d}.txt", Body=b"")
    with count_calls() as calls:
        run = prewarm("--prefix", "k/")
    assert calls.s3 == {"ListObjectsV2": 2}
    assert run["records_written"] == 1001
    assert run["cache_round_trips"] == {"get": 1, "get_many": 2, "add": 1001}


def test_second_run_lists_only(bucket: Any) -> None:
    assert prewarm("--prefix", "p/").returncode == 0
    ik_cache.clear_local()
    with count_calls() as calls:
        again = prewarm("--prefix", "p/")
    assert calls.s3 == {"ListObjectsV2": 1}
    assert again["already_cached"] == 33
    assert again["cache_round_trips"] == {"get": 1, "get_many": 1}


def test_dry_run_lists_but_probes_nothing(bucket: Any, cached: CachedStorage) -> None:
    with count_calls() as calls:
        run = prewarm("--prefix", "p/", "--dry-run")
    assert calls.s3 == {"ListObjectsV2": 1}
    assert (run["would_probe"], run["would_use_listing"]) == (20, 13)
    assert cached.core.cached_records([*IMAGES, *OTHERS]) == {}


def test_prefix_is_a_key_prefix(bucket: Any) -> None:
    """As on S3: ``p/0`` matches ``p/00.jpg`` ... ``p/09.jpg``; ``""`` is the whole bucket."""
    assert prewarm("--prefix", "p/0")["s3"] == {"ListObjectsV2": 1, "GetObject": 10}
    everything = prewarm("--prefix", "")
    assert everything["files_seen"] == 34
    # The ten images not done yet, and other/outside.jpg.
    assert everything["s3"] == {"ListObjectsV2": 1, "GetObject": 11}


def test_location_is_applied(s3: Any) -> None:
    put_images(s3, ["site/p/a.jpg", "site/p/b.jpg", "p/not-in-location.jpg"])
    s3.put_object(Bucket=BUCKET, Key="site/p/c.txt", Body=b"abc")
    with override_settings(STORAGES=s3_storages(location="site")):
        storage = storages["default"]
        run = prewarm("--prefix", "p/")
        assert run["s3"] == {"ListObjectsV2": 1, "GetObject": 2}
        assert run["files_seen"] == 3
        ik_cache.clear_local()
        with count_calls() as calls:
            assert storage.exists("p/a.jpg")
            assert storage.size("p/c.txt") == 3
        assert calls.s3 == {}
        assert not storage.core.cached_records(["p/not-in-location.jpg"])


@pytest.mark.parametrize("alias", ["nope", "s3"])
def test_storage_must_be_a_cached_storage(cached: CachedStorage, alias: str) -> None:
    run = prewarm("--prefix", "p/", "--storage", alias)
    assert run.error is not None
    expected = "not an alias in settings.STORAGES" if alias == "nope" else "not a CachedStorage"
    assert expected in str(run.error)


# -- any other storage: a listdir walk ----------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> Any:
    root = tmp_path / "media"
    files = {
        "p/a.jpg": image_bytes((7, 5)),
        "p/a/z.txt": b"z",
        "p/a.txt": b"aa",
        "p/b/c/d.png": image_bytes((3, 2), "PNG"),
        "p/b.gif": image_bytes((2, 2), "GIF"),
        "q/outside.txt": b"q",
    }
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(body)
    config = {
        "fs": {"BACKEND": "tests.conftest.CountingStorage", "OPTIONS": {"location": str(root)}},
        "cachedfs": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "fs"}},
    }
    with override_settings(STORAGES=config):
        yield storages["cachedfs"]


def test_walk_is_in_name_order_and_resumes(local: CachedStorage) -> None:
    stream = WalkStream(local.core, "p/", "cachedfs")
    names = [n for batch in stream.batches(None, 2) for n in batch.names]
    # "a.jpg" < "a.txt" < "a/z.txt": the folder sorts as "a/", as the names do.
    assert names == ["p/a.jpg", "p/a.txt", "p/a/z.txt", "p/b.gif", "p/b/c/d.png"]
    assert names == sorted(names)
    batches = list(stream.batches("p/a/z.txt", 10))
    assert [b.names for b in batches] == [["p/b.gif", "p/b/c/d.png"]]
    assert batches[0].calls == 4  # p, p/a (it may hold more after z.txt), p/b, p/b/c
    batches = list(stream.batches("p/b.gif", 10))
    assert [b.names for b in batches] == [["p/b/c/d.png"]]
    # p/a/ is not listed again: everything in it sorts before the position.
    assert batches[0].calls == 3  # p, p/b, p/b/c


def test_walk_probes_every_file(local: CachedStorage) -> None:
    fs: CountingStorage = local.wrapped  # type: ignore[assignment]
    run = prewarm("--prefix", "p/", "--storage", "cachedfs")
    assert run.returncode == 0, run.stderr
    assert run["files_seen"] == run["records_written"] == 5
    # listdir: p, p/a, p/b, p/b/c; exists + size per file, open per image (3 images).
    assert dict(fs.calls) == {"listdir": 4, "exists": 5, "size": 5, "open": 3}
    ik_cache.clear_local()
    fs.calls.clear()
    assert local.image_dimensions("p/b/c/d.png") == (3, 2)
    assert local.size("p/a/z.txt") == 1
    assert dict(fs.calls) == {}
