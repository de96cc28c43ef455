"""CachedStorage over GoogleCloudStorage on an emulator: exact HTTP requests, by kind.

Requests are counted by the emulator itself (``tests/gcs_server.py``): one per
HTTP request it serves, whichever process sent it. The bare storage costs 4
requests for a cold image (three metadata GETs and the whole file); through
ikstorage it is one ranged GET, and none once cached.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.images import get_image_dimensions
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.profiler import count_calls
from tests.child import run_module
from tests.conftest import Events
from tests.gcs_server import Emulator, bare, credentials, key_file
from tests.images import image_bytes, jpeg_with_exif
from tests.servers import Server


@pytest.fixture
def emulator(gcs: Emulator) -> Emulator:
    return gcs


def test_cold_image_is_one_request_and_warm_none(emulator: Emulator, events: Events) -> None:
    storage = bare()
    datas = [image_bytes((50 + i, 30 + i)) for i in range(5)]
    for i, data in enumerate(datas):
        storage.save(f"g/{i}.jpg", ContentFile(data))
    with emulator.counting() as plain:
        for i in range(5):
            storage.exists(f"g/{i}.jpg")
            storage.size(f"g/{i}.jpg")
            with storage.open(f"g/{i}.jpg") as fh:
                get_image_dimensions(fh)
    cached = CachedStorage(storage=bare())
    with emulator.counting() as cold:
        for i, data in enumerate(datas):
            assert cached.exists(f"g/{i}.jpg")
            assert cached.size(f"g/{i}.jpg") == len(data)
            assert cached.image_dimensions(f"g/{i}.jpg") == (50 + i, 30 + i)
    with emulator.counting() as warm:
        for i in range(5):
            cached.exists(f"g/{i}.jpg")
            cached.size(f"g/{i}.jpg")
            cached.image_dimensions(f"g/{i}.jpg")
    assert plain == {"read": 5 * 4}
    assert cold == {"read": 5}
    assert warm == {}
    assert events.storage == {"probe": 5}


def test_dimensions_equal_djangos(emulator: Emulator) -> None:
    storage = bare()
    storage.save("big.jpg", ContentFile(image_bytes((640, 480))))
    storage.save("pic.png", ContentFile(image_bytes((33, 21), "PNG")))
    cached = CachedStorage(storage=bare())
    for name in ("big.jpg", "pic.png"):
        with storage.open(name) as fh:
            assert cached.image_dimensions(name) == get_image_dimensions(fh)


def test_missing_file_is_one_request(emulator: Emulator) -> None:
    cached = CachedStorage(storage=bare())
    with emulator.counting() as requests:
        assert cached.exists("nope.jpg") is False
        assert cached.exists("nope.jpg") is False
    assert requests == {"read": 1}


def test_empty_object(emulator: Emulator) -> None:
    bare().save("empty.jpg", ContentFile(b""))
    cached = CachedStorage(storage=bare())
    with emulator.counting() as requests:
        assert cached.exists("empty.jpg")
        assert cached.size("empty.jpg") == 0
        assert cached.image_dimensions("empty.jpg") == (None, None)
    assert requests == {"read": 1}


def test_non_image_is_one_metadata_request(emulator: Emulator) -> None:
    bare().save("clip.mp4", ContentFile(b"\0" * 100_000))
    cached = CachedStorage(storage=bare())
    with emulator.counting() as requests:
        assert cached.size("clip.mp4") == 100_000
        assert cached.get_modified_time("clip.mp4") == bare().get_modified_time("clip.mp4")
    assert requests == {"read": 1 + 1}  # the probe, then the bare storage's own answer


def test_large_exif_costs_one_more_bounded_range(emulator: Emulator) -> None:
    data = jpeg_with_exif((4000, 3000), exif_bytes=65_400, icc_bytes=4_000)
    bare().save("big.jpg", ContentFile(data))
    cached = CachedStorage(storage=bare())
    with emulator.counting() as requests, count_calls() as calls:
        assert cached.image_dimensions("big.jpg") == (4000, 3000)
        assert cached.size("big.jpg") == len(data)
    assert requests == {"read": 2}
    assert calls.probe_bytes == 65_536 + 16_384
    assert len(data) > 200_000


def test_upload_is_one_write_and_no_read(emulator: Emulator) -> None:
    cached = CachedStorage(storage=bare())
    data = image_bytes((640, 480))
    with emulator.counting() as requests:
        name = cached.save("up/one.jpg", ContentFile(data, name="one.jpg"))
        assert cached.exists(name)
        assert cached.size(name) == len(data)
        assert cached.image_dimensions(name) == (640, 480)
        cached.url(name)
    assert requests == {"write": 1}
    stored = bare()
    assert stored.size(name) == len(data)
    blob = stored.bucket.get_blob(name)
    assert blob.content_type == "image/jpeg"


def test_gzipped_upload_size_is_learned_from_the_storage(emulator: Emulator) -> None:
    """GoogleCloudStorage gzips the types it is told to: the stored size is not the
    input's, so the record is left for the first reader (one request)."""
    options = {"gzip": True, "gzip_content_types": ("image/png",)}
    cached = CachedStorage(storage=bare(**options))
    data = image_bytes((300, 200), "PNG")
    with emulator.counting() as requests:
        name = cached.save("z.png", ContentFile(data))
        size = cached.size(name)
    assert requests == {"write": 1, "read": 1}
    assert size == bare().size(name) != len(data)
    assert bare().bucket.get_blob(name).content_encoding == "gzip"


def test_renditions_are_one_write_and_one_read(emulator: Emulator) -> None:
    adapter = CachedStorage(storage=bare()).core.files
    data = image_bytes((20, 10), "PNG")
    with emulator.counting() as requests:
        adapter.write_file("r/a.png", data, content_type="image/png", cache_control="max-age=9")
        assert adapter.read_file("r/a.png") == data
    assert requests == {"write": 1, "read": 1}
    blob = bare().bucket.get_blob("r/a.png")
    assert (blob.content_type, blob.cache_control) == ("image/png", "max-age=9")


@pytest.mark.parametrize("use_tz", [True, False])
def test_modified_time_is_the_wrapped_storages(emulator: Emulator, use_tz: bool) -> None:
    bare().save("a.jpg", ContentFile(image_bytes()))
    cached = CachedStorage(storage=bare())
    with override_settings(USE_TZ=use_tz, TIME_ZONE="Europe/Paris"):
        expected = bare().get_modified_time("a.jpg")
        assert cached.get_modified_time("a.jpg") == expected
        with emulator.counting() as requests:
            again = cached.get_modified_time("a.jpg")
        assert again == expected
        assert (again.tzinfo is None) is (not use_tz)
    assert requests == {}


def test_identity_is_the_same_for_the_same_key(emulator: Emulator, tmp_path: Path) -> None:
    path = key_file(tmp_path)
    one = CachedStorage(storage=bare(credentials=credentials(path)))
    two = CachedStorage(storage=bare(credentials=credentials(path)))
    other = CachedStorage(storage=bare(credentials=credentials(path), bucket_name="other"))
    identity = one.core.identity
    assert identity == two.core.identity
    assert identity != other.core.identity
    assert "PRIVATE" not in identity
    assert "media@test" not in identity
    assert "0123456789abcdef" not in identity


def test_signed_urls_are_memoized_until_the_margin(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, events: Events
) -> None:
    import ikstorage.core.answers

    signed = bare(
        credentials=credentials(key_file(tmp_path)),
        querystring_auth=True,
        expiration=timedelta(seconds=3600),
    )
    cached = CachedStorage(storage=signed, url_expiry_margin=300)
    now = [1_800_000_000.0]
    monkeypatch.setattr(ikstorage.core.answers.time, "time", lambda: now[0])
    first = cached.url("a.jpg")
    assert "X-Goog-Signature" in first
    assert cached.url("a.jpg") == first
    now[0] += 3600 - 300 - 1  # still outside the margin
    assert cached.url("a.jpg") == first
    assert events.storage["url"] == 1
    now[0] += 2  # inside the margin: signed again
    from ikstorage.cache import clear_local

    clear_local()
    cached.url("a.jpg")
    assert events.storage["url"] == 2
    public = CachedStorage(storage=bare(querystring_auth=False))
    assert public.core.files.url_lifetime() is None
    assert cached.core.files.url_lifetime() == 3600
    fixed = bare(querystring_auth=True, expiration=datetime(2030, 1, 1, tzinfo=UTC))
    assert CachedStorage(storage=fixed).core.files.url_lifetime() == 0
    shared = bare(querystring_auth=True, default_acl="publicRead")
    assert CachedStorage(storage=shared).core.files.url_lifetime() is None


@pytest.mark.slow
@pytest.mark.redis
def test_new_process_with_credentials_pays_nothing(
    emulator: Emulator, redis_server: Server, tmp_path: Path
) -> None:
    path = key_file(tmp_path)
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{redis_server.port}/0",
    }
    names = [f"g/{i}.jpg" for i in range(5)]
    with override_settings(CACHES={"default": cache}):
        cached = CachedStorage(storage=bare(credentials=credentials(path)))
        with emulator.counting() as requests:
            for i, name in enumerate(names):
                cached.save(name, ContentFile(image_bytes((50 + i, 30))))
        assert requests == {"write": 5}
        expected = [[50 + i, 30, cached.size(name)] for i, name in enumerate(names)]
    config = {"cache": cache, "key_file": str(path), "names": names}
    with emulator.counting() as requests:
        result = run_module("tests.scripts.gcs_page", json.dumps(config))
    assert requests == {}
    assert result == {"answers": expected}


@pytest.mark.parametrize(
    ("status", "headers", "size"),
    [
        (206, {"Content-Range": "bytes 0-65535/1234567"}, 1234567),
        (416, {"Content-Range": "bytes */0"}, 0),  # GCS: an empty object has no byte 0
        (206, {"Content-Range": "bytes 0--1/0"}, 0),  # the emulator's answer for it
        (200, {"Content-Length": "0"}, 0),  # a server that ignores the range
        (200, {"Content-Length": "10", "x-goog-stored-content-length": "7"}, 7),
        (200, {"Content-Length": "10", "Content-Encoding": "gzip"}, None),
        (416, {}, 0),  # fake-gcs-server: no byte 0, no Content-Range either
        # Stored gzipped, served decompressed, the range ignored: not the stored size.
        (200, {"Content-Length": "3000", "x-goog-stored-content-encoding": "gzip"}, None),
        (200, {"Content-Length": "9", "x-goog-stored-content-encoding": "identity"}, 9),
        (200, {}, None),  # says nothing: the metadata is asked
    ],
)
def test_total_size_from_a_ranged_answer(
    status: int, headers: dict[str, str], size: int | None
) -> None:
    from ikstorage.backends.gcs_facts import total_size

    assert total_size(status, headers) == size
