"""``--prefix`` on AzureStorage: List Blobs pages (records for free) and a probe per image.

Requests are counted at the HTTP level by the forwarder in front of Azurite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import override_settings

from ikstorage import CachedStorage
from tests.azure_server import CONTAINER, Azurite
from tests.images import image_bytes
from tests.prewarm.conftest import prewarm
from tests.prewarm.layout import IMAGES, OTHERS, assert_answered_without_requests


def azure_storages(azurite: Azurite, **options: Any) -> dict[str, Any]:
    azure = {"connection_string": azurite.connection_string, "azure_container": CONTAINER}
    return {
        "azure": {
            "BACKEND": "storages.backends.azure_storage.AzureStorage",
            "OPTIONS": {**azure, "overwrite_files": True, **options},
        },
        "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "azure"}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def cached(azurite: Azurite) -> Iterator[CachedStorage]:
    """A container with files put behind ikstorage's back, and ``STORAGES["default"]``."""
    with override_settings(STORAGES=azure_storages(azurite)):
        plain = storages["azure"]
        body = image_bytes((33, 22))
        for name in IMAGES:
            plain.save(name, ContentFile(body))
        for i, name in enumerate(OTHERS):
            plain.save(name, ContentFile(b"x" * (100 + i)))
        plain.save("other/outside.jpg", ContentFile(image_bytes((5, 5))))
        plain.save("pq.jpg", ContentFile(image_bytes((5, 5))))  # starts with "p", not "p/"
        storage = storages["default"]
        assert isinstance(storage, CachedStorage)
        yield storage


def test_listing_fills_non_images_for_free(azurite: Azurite, cached: CachedStorage) -> None:
    with azurite.counting() as requests:
        run = prewarm("--prefix", "p/")
    assert run.returncode == 0, run.stderr
    # One listing page for 33 blobs; a ranged GET per image; nothing for the 13 others.
    assert requests == {"list": 1, "get": 20}
    assert run["files_seen"] == 33
    assert run["from_listing"] == 13
    assert run["probed"] == 20
    assert_answered_without_requests(cached, storages["azure"], azurite.counting)


def test_pages_follow_the_batch_size(azurite: Azurite, cached: CachedStorage) -> None:
    with azurite.counting() as requests:
        run = prewarm("--prefix", "p/", "--batch-size", "10")
    assert run.returncode == 0, run.stderr
    assert requests == {"list": 4, "get": 20}  # 33 blobs, 10 a page
    assert run["files_seen"] == 33


def test_location_is_applied(azurite: Azurite) -> None:
    with override_settings(STORAGES=azure_storages(azurite, location="site")):
        storages["azure"].save("p/a.txt", ContentFile(b"abc"))
        storages["azure"].save("q/b.txt", ContentFile(b"abcd"))
        with azurite.counting() as requests:
            run = prewarm("--prefix", "p/")
        assert run.returncode == 0, run.stderr
        assert requests == {"list": 1}
        assert run["from_listing"] == 1
        assert storages["default"].core.cached_records(["p/a.txt"])["p/a.txt"].size == 3


def test_a_rerun_continues_after_the_position(azurite: Azurite, cached: CachedStorage) -> None:
    from ikstorage.prewarm.listing import prefix_stream

    stream = prefix_stream(cached.core, "p/", "default")
    with azurite.counting() as requests:
        batches = list(stream.batches("p/09.jpg", 10))
    assert [name for batch in batches for name in batch.names] == [
        name for name in sorted([*IMAGES, *OTHERS]) if name > "p/09.jpg"
    ]
    assert [batch.position for batch in batches] == [
        "p/09.jpg",
        "p/19.jpg",
        "p/docs/9.txt",
        "p/video/2.mp4",
    ]
    assert requests == {"list": 4}  # the first page again, all of it done before
