"""CachedStorage over S3Storage on SeaweedFS, a real S3 server: exact HTTP requests by operation.

Requests are counted by the forwarder in front of SeaweedFS
(``tests/seaweedfs_server.py``), one per HTTP request, and each test checks
that botocore's own count (``count_calls``) agrees. Every answer is compared
with the bare ``S3Storage``'s on the same server.
"""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.images import get_image_dimensions
from django.test import override_settings
from PIL import Image
from storages.backends.s3 import S3Storage

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.profiler import count_calls
from tests.images import image_bytes, jpeg_with_exif
from tests.seaweedfs_server import BUCKET, READER_KEY, READER_SECRET, SeaweedFS

pytestmark = pytest.mark.server

FIRST_64K = "bytes=0-65535"


def bare(seaweedfs: SeaweedFS, **options: Any) -> S3Storage:
    return S3Storage(**seaweedfs.options(**options))


def cold() -> None:
    """Forget every record: the next question goes to the server."""
    clear_local()
    caches["default"].clear()


def put(seaweedfs: SeaweedFS, name: str, data: bytes) -> None:
    """An object written behind ikstorage's back (not counted)."""
    seaweedfs.client().put_object(Bucket=BUCKET, Key=name, Body=data)


def test_cold_image_is_one_ranged_get_and_answers_equal_the_bare_storage(
    seaweedfs: SeaweedFS,
) -> None:
    names = [f"g/{i}.jpg" for i in range(5)]
    for i, name in enumerate(names):
        put(seaweedfs, name, image_bytes((50 + i, 30 + i)))
    plain = bare(seaweedfs)
    with seaweedfs.counting() as requests:
        expected = []
        for name in names:
            with plain.open(name) as fh:
                dims = get_image_dimensions(fh)
            facts = (plain.exists(name), plain.size(name), plain.get_modified_time(name))
            expected.append((*facts, dims, plain.url(name)))
    # S3Storage: open() is a HEAD, reading it another HEAD and the whole GET; exists(),
    # size() and the modified time are a HEAD each.
    assert requests == {"HeadObject": 5 * 5, "GetObject": 5}
    cached = CachedStorage(storage=bare(seaweedfs))
    start = len(seaweedfs.requests)
    with seaweedfs.counting() as requests, count_calls() as calls:
        answers = [
            (
                cached.exists(name),
                cached.size(name),
                cached.get_modified_time(name),
                cached.image_dimensions(name),
                cached.url(name),
            )
            for name in names
        ]
    assert requests == calls.s3 == {"GetObject": 5}
    assert seaweedfs.ranges(start) == [FIRST_64K] * 5
    assert answers == expected
    with seaweedfs.counting() as requests:
        assert [cached.size(name) for name in names] == [e[1] for e in expected]
        assert [cached.image_dimensions(name) for name in names] == [e[3] for e in expected]
    assert requests == {}
    head = seaweedfs.client().head_object(Bucket=BUCKET, Key=names[0])
    assert cached.metadata(names[0]).etag == head["ETag"]


def test_content_range_tells_the_size_of_a_large_object(seaweedfs: SeaweedFS) -> None:
    data = jpeg_with_exif((4000, 3000), exif_bytes=65_400, icc_bytes=4_000)
    put(seaweedfs, "big.jpg", data)
    cached = CachedStorage(storage=bare(seaweedfs))
    start = len(seaweedfs.requests)
    with seaweedfs.counting() as requests, count_calls() as calls:
        assert cached.image_dimensions("big.jpg") == (4000, 3000)
        assert cached.size("big.jpg") == len(data) == bare(seaweedfs).size("big.jpg")
    # The header runs past the first 64 KiB: one bounded follow-up range (and the bare HEAD).
    assert requests == calls.s3 == {"GetObject": 2, "HeadObject": 1}
    assert seaweedfs.ranges(start) == [FIRST_64K, "bytes=65536-81919"]
    assert calls.probe_bytes == 65_536 + 16_384


def test_missing_is_one_404_and_kept(seaweedfs: SeaweedFS) -> None:
    cached = CachedStorage(storage=bare(seaweedfs))
    with seaweedfs.counting() as requests:
        assert cached.exists("nope.jpg") is False
        assert cached.exists("nope.jpg") is False
        assert bare(seaweedfs).exists("nope.jpg") is False
    assert requests == {"GetObject": 1, "HeadObject": 1}


@pytest.mark.parametrize(
    ("keys", "code"),
    [
        ({"access_key": READER_KEY, "secret_key": READER_SECRET}, "AccessDenied"),
        ({"secret_key": "not-the-secret"}, "SignatureDoesNotMatch"),
    ],
)
def test_403_is_raised_as_s3storage_raises_it_and_never_kept(
    seaweedfs: SeaweedFS, keys: dict[str, str], code: str
) -> None:
    """No permission, or wrong credentials: an error, never "missing" (a 404 only is)."""
    put(seaweedfs, "there.jpg", image_bytes())
    for name in ("there.jpg", "nope.jpg"):  # a 403 whether the key exists or not
        with pytest.raises(ClientError) as raw:
            bare(seaweedfs, **keys).exists(name)
        assert raw.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        cached = CachedStorage(storage=bare(seaweedfs, **keys))
        with seaweedfs.counting() as requests:
            for _ in range(2):
                with pytest.raises(ClientError) as err:
                    cached.exists(name)
                assert err.value.response["Error"]["Code"] == code
        assert requests == {"GetObject": 2}  # nothing was kept: asked again
        assert cached.core.cache.get(cached.core.keys.record(name)) is None


def test_empty_object_is_a_416_then_a_head(seaweedfs: SeaweedFS) -> None:
    put(seaweedfs, "empty.jpg", b"")
    direct = seaweedfs.client()
    with pytest.raises(ClientError) as err:
        direct.get_object(Bucket=BUCKET, Key="empty.jpg", Range=FIRST_64K)
    response = err.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-range"] == "bytes */0"
    cached = CachedStorage(storage=bare(seaweedfs))
    plain = bare(seaweedfs)
    with seaweedfs.counting() as requests:
        assert cached.exists("empty.jpg") is True
        assert cached.size("empty.jpg") == 0
        assert cached.image_dimensions("empty.jpg") == (None, None)
        assert cached.get_modified_time("empty.jpg") == plain.get_modified_time("empty.jpg")
    # The 416 tells neither ETag nor modified time: one HEAD does (and the bare one).
    assert requests == {"GetObject": 1, "HeadObject": 1 + 1}
    assert (
        cached.metadata("empty.jpg").etag
        == direct.head_object(Bucket=BUCKET, Key="empty.jpg")["ETag"]
    )


def test_non_image_is_one_head(seaweedfs: SeaweedFS) -> None:
    put(seaweedfs, "clip.mp4", b"\0" * 100_000)
    cached = CachedStorage(storage=bare(seaweedfs))
    with seaweedfs.counting() as requests, count_calls() as calls:
        assert cached.size("clip.mp4") == 100_000
        assert cached.image_dimensions("clip.mp4") is None
    assert requests == calls.s3 == {"HeadObject": 1}
    assert calls.bytes_downloaded == 0


@pytest.mark.parametrize("use_tz", [True, False])
def test_modified_time_is_s3storages_in_its_time_zone(seaweedfs: SeaweedFS, use_tz: bool) -> None:
    """``Last-Modified`` is GMT on the wire; S3Storage answers aware UTC, or naive local."""
    put(seaweedfs, "a.jpg", image_bytes())
    cached = CachedStorage(storage=bare(seaweedfs))
    with override_settings(USE_TZ=use_tz, TIME_ZONE="Asia/Kolkata"):
        expected = bare(seaweedfs).get_modified_time("a.jpg")
        with seaweedfs.counting() as requests:
            first = cached.get_modified_time("a.jpg")
            again = cached.get_modified_time("a.jpg")
        assert first == again == expected
        assert (again.tzinfo is None) is (not use_tz)
        assert again.utcoffset() == expected.utcoffset()
        assert str(again) == str(expected)
    assert requests == {"GetObject": 1}


def test_upload_is_one_put_and_no_read(seaweedfs: SeaweedFS) -> None:
    data = image_bytes((640, 480))
    cached = CachedStorage(storage=bare(seaweedfs))
    with seaweedfs.counting() as requests, count_calls() as calls:
        name = cached.save("up/one.jpg", ContentFile(data, name="one.jpg"))
        assert cached.exists(name)
        assert cached.size(name) == len(data)
        assert cached.image_dimensions(name) == (640, 480)
        url = cached.url(name)
    assert requests == calls.s3 == {"PutObject": 1}
    assert url == bare(seaweedfs).url(name)
    # Without file_overwrite, the free name is S3Storage's to find: one HEAD, as its save does.
    keeping = CachedStorage(storage=bare(seaweedfs, file_overwrite=False))
    with seaweedfs.counting() as requests:
        assert keeping.save("up/one.jpg", ContentFile(data)) != "up/one.jpg"
    assert requests == {"HeadObject": 2, "PutObject": 1}
    head = seaweedfs.client().head_object(Bucket=BUCKET, Key=name)
    assert (head["ContentLength"], head["ContentType"]) == (len(data), "image/jpeg")


def _noise_png(size: tuple[int, int]) -> bytes:
    """A PNG that does not compress: its bytes are about width x height x 3."""
    buf = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buf, "PNG")
    return buf.getvalue()


def test_multipart_upload_above_the_threshold(seaweedfs: SeaweedFS) -> None:
    from boto3.s3.transfer import TransferConfig

    mib = 1024 * 1024
    data = _noise_png((1600, 1200))  # about 5.5 MiB
    assert 5 * mib < len(data) < 10 * mib
    transfer = TransferConfig(multipart_threshold=5 * mib, multipart_chunksize=5 * mib)
    cached = CachedStorage(storage=bare(seaweedfs, transfer_config=transfer))
    with seaweedfs.counting() as requests, count_calls() as calls:
        name = cached.save("big/noise.png", ContentFile(data))
        assert cached.size(name) == len(data)
        assert cached.image_dimensions(name) == (1600, 1200)
    assert (
        requests
        == calls.s3
        == {
            "CreateMultipartUpload": 1,
            "UploadPart": 2,
            "CompleteMultipartUpload": 1,
        }
    )
    cold()
    plain = bare(seaweedfs)
    with seaweedfs.counting() as requests:
        record = cached.metadata(name)
    assert requests == {"GetObject": 1}
    head = seaweedfs.client().head_object(Bucket=BUCKET, Key=name)
    assert record.etag == head["ETag"]
    assert record.etag.endswith('-2"')  # a multipart ETag: not the MD5 of the bytes
    assert (record.size, record.width, record.height) == (plain.size(name), 1600, 1200)
    assert cached.get_modified_time(name) == plain.get_modified_time(name)


def test_a_folder_key_appears_with_its_first_file(seaweedfs: SeaweedFS) -> None:
    """On SeaweedFS ``dir/`` answers a HEAD once a file is under it (AWS answers 404):
    a cached "missing" for it is dropped by the save, as for a folder on disk."""
    cached = CachedStorage(storage=bare(seaweedfs))
    plain = bare(seaweedfs)
    assert [cached.exists(n) for n in ("dir", "dir/", "dir/sub/")] == [False] * 3
    with seaweedfs.counting() as requests:
        cached.save("dir/sub/x.jpg", ContentFile(image_bytes()))
    assert requests == {"PutObject": 1}
    with seaweedfs.counting() as requests:
        answers = [cached.exists(n) for n in ("dir", "dir/", "dir/sub/")]
    assert answers == [plain.exists(n) for n in ("dir", "dir/", "dir/sub/")] == [False, True, True]
    assert requests == {"HeadObject": 2}  # "dir" is still known missing; the folders asked again
