"""Pages, uploads and renditions on SeaweedFS: the per-image request table, at the HTTP level.

| per image | cold page | warm page | new process | upload through the model |
|---|---|---|---|---|
| CachedStorage | 1 GetObject (the first 64 KiB) | 0 | 0 | 1 PutObject + 1 per rendition |
| S3Storage | 3 HeadObject + 1 GetObject (the whole file) | the same | the same | 1 PutObject |

Counted by the forwarder in front of SeaweedFS, so the new process's requests
(there are none) would be seen too.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.template import Context, Template
from django.test import override_settings
from storages.backends.s3 import S3Storage

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.profiler import count_calls
from tests.child import run_module
from tests.images import image_bytes
from tests.renditions_storage.helpers import IMMUTABLE, OUTPUTS, SHAPES, SOURCE, SPECS
from tests.seaweedfs_server import BUCKET, SeaweedFS
from tests.testapp.models import Photo

pytestmark = pytest.mark.server

TEMPLATE = (
    "{% for p in photos %}<img src='{{ p.image.url }}' width='{{ p.image.width }}' "
    "height='{{ p.image.height }}' data-bytes='{{ p.image.size }}'>{% endfor %}"
)
IMAGES = 20


def site(seaweedfs: SeaweedFS, tmp_path: Path, *, cached: bool = True) -> dict[str, Any]:
    """``STORAGES`` and ``CACHES``: a file cache, which a new process shares."""
    default = {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "s3", "specs": SPECS}}
    s3 = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": seaweedfs.options()}
    return {
        "STORAGES": {
            "s3": s3,
            "default": default if cached else s3,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        },
    }


def render(names: list[str]) -> str:
    photos = [Photo(id=i, image=name) for i, name in enumerate(names, 1)]
    return Template(TEMPLATE).render(Context({"photos": photos}))


@pytest.mark.django_db
def test_the_page_table(seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    names = [f"g/{i:02d}.jpg" for i in range(IMAGES)]
    direct = seaweedfs.client()
    for i, name in enumerate(names):  # uploaded elsewhere, before ikstorage
        direct.put_object(Bucket=BUCKET, Key=name, Body=image_bytes((60 + i, 40)))
    config = site(seaweedfs, tmp_path)
    with override_settings(**config):
        caches["default"].clear()
        start = len(seaweedfs.requests)
        with seaweedfs.counting() as cold, count_calls() as calls:
            html = render(names)
        assert cold == calls.s3 == {"GetObject": IMAGES}
        assert seaweedfs.ranges(start) == ["bytes=0-65535"] * IMAGES
        assert "width='79' height='40'" in html
        with seaweedfs.counting() as warm:
            assert render(names) == html
        assert warm == {}
        with seaweedfs.counting() as new_process:
            result = run_module(
                "tests.scripts.render_page",
                json.dumps({**_lower(config), "names": names, "template": TEMPLATE}),
            )
        assert new_process == {}
        assert result["first"]["s3"] == result["second"]["s3"] == {}
        assert result["first"]["html_sha"] == hashlib.sha256(html.encode()).hexdigest()

        uploads = 5
        with seaweedfs.counting() as upload, count_calls() as calls:
            for i in range(uploads):
                image = ContentFile(image_bytes((300 + i, 200)), name=f"u{i}.jpg")
                Photo.objects.create(image=image)
        assert upload == calls.s3 == {"PutObject": uploads * (1 + OUTPUTS)}

    with override_settings(**site(seaweedfs, tmp_path, cached=False)):
        with seaweedfs.counting() as plain:
            assert render(names) == html
        assert plain == {"HeadObject": 3 * IMAGES, "GetObject": IMAGES}


def _lower(config: dict[str, Any]) -> dict[str, Any]:
    """The settings in the child's spelling (``storages``, ``cache``)."""
    return {"storages": config["STORAGES"], "cache": config["CACHES"]["default"]}


def test_renditions_on_save_are_one_put_each_and_shown_for_free(seaweedfs: SeaweedFS) -> None:
    storage = CachedStorage(storage=S3Storage(**seaweedfs.options()), specs=SPECS)
    with seaweedfs.counting() as requests, count_calls() as calls:
        name = storage.save("photos/a.jpg", ContentFile(SOURCE))
    assert requests == calls.s3 == {"PutObject": 1 + OUTPUTS}
    record = storage.metadata(name)
    assert {(r.spec, r.format): (r.width, r.height) for r in record.renditions} == SHAPES
    direct = seaweedfs.client()
    plain = S3Storage(**seaweedfs.options())
    for info in record.renditions:
        head = direct.head_object(Bucket=BUCKET, Key=info.name)
        assert head["ContentLength"] == info.size
        assert head["ContentType"] == f"image/{info.format}"
        assert head["CacheControl"] == IMMUTABLE
        assert info.url == plain.url(info.name)
    for fresh in (False, True):
        if fresh:
            clear_local()  # a new process: only the shared cache is left
        with seaweedfs.counting() as requests:
            shown = storage.rendition(name, "thumb", "webp")
        assert requests == {}
        assert (shown.width, shown.height, shown.fallback) == (200, 150, False)


def test_signed_urls_are_s3storages_and_work(seaweedfs: SeaweedFS) -> None:
    """SeaweedFS checks the signature: a URL memoized by ikstorage is served."""
    data = image_bytes((30, 20))
    seaweedfs.client().put_object(Bucket=BUCKET, Key="s.jpg", Body=data)
    options = seaweedfs.options(querystring_auth=True, querystring_expire=3600)
    cached = CachedStorage(storage=S3Storage(**options))
    with seaweedfs.counting() as requests, count_calls() as calls:
        url = cached.url("s.jpg")
        assert cached.url("s.jpg") == url
    assert requests == calls.s3 == {}
    assert calls.presigned == {"GetObject": 1}
    expected = urlsplit(S3Storage(**options).url("s.jpg"))
    got = urlsplit(url)
    assert (got.scheme, got.netloc, got.path) == (expected.scheme, expected.netloc, expected.path)
    assert sorted(parse_qs(got.query)) == sorted(parse_qs(expected.query))
    with seaweedfs.counting() as requests, urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == data
    assert requests == {"GetObject": 1}  # the browser's download


@pytest.mark.parametrize(
    "name",
    ["ü/фото 😀.jpg", "a+b c%2F.jpg", "deep/" + "/".join(c * 200 for c in "dnx") + ".jpg"],
    ids=["unicode", "reserved", "long"],
)
def test_names_and_their_signed_urls(seaweedfs: SeaweedFS, name: str) -> None:
    data = image_bytes((12, 10))
    cached = CachedStorage(storage=S3Storage(**seaweedfs.options(querystring_auth=True)))
    assert cached.save(name, ContentFile(data)) == name
    clear_local()
    caches["default"].clear()
    with seaweedfs.counting() as requests:
        assert cached.image_dimensions(name) == (12, 10)
        url = cached.url(name)
    assert requests == {"GetObject": 1}
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == data


def test_a_key_segment_over_255_bytes_is_refused_as_s3storage_is(seaweedfs: SeaweedFS) -> None:
    """A 1,000-byte key is valid on S3 (and moto); SeaweedFS keeps a file tree and
    refuses a path segment over 255 bytes. The error is S3Storage's, nothing is kept."""
    from botocore.exceptions import ClientError

    name = "long/" + "n" * 991 + ".jpg"
    assert len(name.encode()) == 1000
    with pytest.raises(ClientError) as raw:
        S3Storage(**seaweedfs.options()).save(name, ContentFile(b"x"))
    assert raw.value.response["Error"]["Code"] == "KeyTooLongError"
    cached = CachedStorage(storage=S3Storage(**seaweedfs.options()))
    with seaweedfs.counting() as requests, pytest.raises(ClientError) as err:
        cached.save(name, ContentFile(image_bytes()))
    assert err.value.response["Error"]["Code"] == "KeyTooLongError"
    assert requests == {"PutObject": 1}
    assert cached.core.cache.get(cached.core.keys.record(name)) is None
    assert cached.exists(name) is False
