"""``--prefix`` on GoogleCloudStorage: objects.list pages (records for free), a probe per image.

Requests are counted at the HTTP level (``tests/gcs_server.py``). fake-gcs-server
lists as GCS documents it, in pages of ``maxResults`` from ``startOffset``;
gcp-storage-emulator ignores both and answers every object in one page, so
the number of listing requests is asserted per emulator.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import override_settings

from ikstorage import CachedStorage
from tests.gcs_server import BUCKET, Emulator
from tests.images import image_bytes
from tests.prewarm.conftest import prewarm
from tests.prewarm.layout import IMAGES, OTHERS, OUTSIDE, assert_answered_without_requests


@pytest.fixture
def emulator(gcs: Emulator) -> Emulator:
    return gcs


def gcs_storages(**options: Any) -> dict[str, Any]:
    from google.auth.credentials import AnonymousCredentials

    gcs = {
        "bucket_name": BUCKET,
        "project_id": "test",
        "credentials": AnonymousCredentials(),
        "querystring_auth": False,
    }
    return {
        "gcs": {
            "BACKEND": "storages.backends.gcloud.GoogleCloudStorage",
            "OPTIONS": {**gcs, **options},
        },
        "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "gcs"}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def upload(emulator: Emulator, names: list[str], data: bytes) -> None:
    """Many small objects, one plain request each, before any count is taken (eight at
    a time where the emulator takes them so)."""
    address = urlsplit(emulator.host)

    def put(name: str) -> None:
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
        path = f"/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={quote(name, safe='')}"
        try:
            connection.request("POST", path, body=data)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        assert response.status == 200, (name, response.status)

    with ThreadPoolExecutor(max_workers=8 if emulator.concurrent else 1) as pool:
        list(pool.map(put, names))


@contextmanager
def wiped_after(emulator: Emulator) -> Iterator[None]:
    try:
        yield
    finally:
        emulator.wipe()


@pytest.fixture
def cached(emulator: Emulator) -> Iterator[CachedStorage]:
    """A bucket with objects put behind ikstorage's back, and ``STORAGES["default"]``."""
    with override_settings(STORAGES=gcs_storages()):
        plain = storages["gcs"]
        body = image_bytes((33, 22))
        plain.save("other/outside.jpg", ContentFile(image_bytes((5, 5))))
        for name in IMAGES:
            plain.save(name, ContentFile(body))
        plain.bucket.blob("p/").upload_from_string(b"")  # a "folder" marker, as the console makes
        for i, name in enumerate(OTHERS):
            plain.save(name, ContentFile(b"x" * (100 + i)))
        plain.save("pq.jpg", ContentFile(image_bytes((5, 5))))  # starts with "p", not "p/"
        storage = storages["default"]
        assert isinstance(storage, CachedStorage)
        yield storage


def test_listing_fills_non_images_for_free(emulator: Emulator, cached: CachedStorage) -> None:
    with emulator.counting() as requests:
        run = prewarm("--prefix", "p/")
    assert run.returncode == 0, run.stderr
    # One listing page for 34 objects; a ranged GET per image; nothing for the 13 others.
    assert requests == {"list": 1, "read": 20}
    assert run["files_seen"] == 33
    assert run["from_listing"] == 13
    assert run["probed"] == 20
    assert_answered_without_requests(
        cached, storages["gcs"], emulator.counting, not_recorded=[*OUTSIDE, "p/"]
    )


def test_listed_record_is_what_the_probe_learns(emulator: Emulator, cached: CachedStorage) -> None:
    assert prewarm("--prefix", "p/docs/").returncode == 0
    for name in OTHERS[:10]:
        listed = cached.core.cached_records([name])[name]
        probed = cached.core.probe(name)
        assert (listed.exists, listed.size, listed.etag, listed.modified) == (
            probed.exists,
            probed.size,
            probed.etag,
            probed.modified,
        )
        assert (listed.etag or "").startswith("g")
        assert listed.dimensions_known is probed.dimensions_known is False


def test_pages_follow_the_batch_size(emulator: Emulator, cached: CachedStorage) -> None:
    with emulator.counting() as requests:
        run = prewarm("--prefix", "p/", "--batch-size", "10")
    assert run.returncode == 0, run.stderr
    # 34 objects (the marker included), 10 a page: four listing requests.
    assert requests == {"list": 4 if emulator.pages else 1, "read": 20}
    assert run["files_seen"] == 33


@pytest.mark.slow
def test_two_thousand_five_hundred_objects_are_three_listing_requests(
    emulator: Emulator,
) -> None:
    # Both emulators slow down with every object they hold (fake-gcs-server
    # takes about 10 s for 2,500 uploads and as long to delete them;
    # gcp-storage-emulator 20 s for 800). gcp-storage-emulator lists
    # everything in one page: 250 show it.
    count = 2500 if emulator.pages else 250
    names = [f"k/{i:04d}.txt" for i in range(count)]
    upload(emulator, names, b"abc")
    with override_settings(STORAGES=gcs_storages()), wiped_after(emulator):
        with emulator.counting() as requests:
            run = prewarm("--prefix", "k/")
        assert run.returncode == 0, run.stderr
        assert requests == {"list": 3 if emulator.pages else 1}
        assert run["records_written"] == run["from_listing"] == count
        last = names[-1]
        assert storages["default"].core.cached_records([last])[last].size == 3


def test_location_is_applied(emulator: Emulator) -> None:
    with override_settings(STORAGES=gcs_storages(location="site")):
        storages["gcs"].save("p/a.txt", ContentFile(b"abc"))
        storages["gcs"].save("q/b.txt", ContentFile(b"abcd"))
        with emulator.counting() as requests:
            run = prewarm("--prefix", "p/")
        assert run.returncode == 0, run.stderr
        assert requests == {"list": 1}
        assert run["from_listing"] == 1
        assert storages["default"].core.cached_records(["p/a.txt"])["p/a.txt"].size == 3


def test_a_rerun_continues_from_the_position(emulator: Emulator, cached: CachedStorage) -> None:
    from ikstorage.prewarm.listing import prefix_stream

    stream = prefix_stream(cached.core, "p/", "default")
    with emulator.counting() as requests:
        batches = list(stream.batches("p/09.jpg", 10))
    assert [name for batch in batches for name in batch.names] == [
        name for name in sorted([*IMAGES, *OTHERS]) if name > "p/09.jpg"
    ]
    if emulator.pages:
        # From p/09.jpg on (startOffset includes it; it is skipped), 10 a page.
        assert [batch.position for batch in batches] == [
            "p/18.jpg",
            "p/docs/8.txt",
            "p/video/2.mp4",
        ]
        assert requests == {"list": 3}
    else:
        assert [batch.position for batch in batches] == ["p/video/2.mp4"]
        assert requests == {"list": 1}
