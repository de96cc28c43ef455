"""CachedStorage over AzureStorage on Azurite: exact HTTP requests, by kind.

Requests are counted by a forwarder in front of Azurite (``tests/azure_server.py``):
one per HTTP request, whichever process sent it. The bare storage costs 3
requests for a cold image (two HEADs and the whole file); through ikstorage
it is one ranged GET, and none once cached.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.images import get_image_dimensions
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.profiler import count_calls
from tests.azure_server import ACCOUNT, CONTAINER, KEY, Azurite
from tests.child import run_module
from tests.conftest import Events
from tests.images import image_bytes, jpeg_with_exif
from tests.servers import Server


def bare(azurite: Azurite, **options: Any) -> Any:
    from storages.backends.azure_storage import AzureStorage

    settings = {
        "connection_string": azurite.connection_string,
        "azure_container": CONTAINER,
        "overwrite_files": True,
        **options,
    }
    return AzureStorage(**settings)


def test_cold_image_is_one_request_and_warm_none(azurite: Azurite, events: Events) -> None:
    storage = bare(azurite)
    datas = [image_bytes((50 + i, 30 + i)) for i in range(5)]
    for i, data in enumerate(datas):
        storage.save(f"g/{i}.jpg", ContentFile(data))
    with azurite.counting() as plain:
        for i in range(5):
            storage.exists(f"g/{i}.jpg")
            storage.size(f"g/{i}.jpg")
            with storage.open(f"g/{i}.jpg") as fh:
                get_image_dimensions(fh)
    cached = CachedStorage(storage=bare(azurite))
    with azurite.counting() as cold:
        for i, data in enumerate(datas):
            assert cached.exists(f"g/{i}.jpg")
            assert cached.size(f"g/{i}.jpg") == len(data)
            assert cached.image_dimensions(f"g/{i}.jpg") == (50 + i, 30 + i)
    with azurite.counting() as warm:
        for i in range(5):
            cached.exists(f"g/{i}.jpg")
            cached.size(f"g/{i}.jpg")
            cached.image_dimensions(f"g/{i}.jpg")
    assert plain == {"head": 5 * 2, "get": 5}
    assert cold == {"get": 5}
    assert warm == {}
    assert events.storage == {"probe": 5}


def test_dimensions_equal_djangos(azurite: Azurite) -> None:
    storage = bare(azurite)
    storage.save("big.jpg", ContentFile(image_bytes((640, 480))))
    storage.save("pic.png", ContentFile(image_bytes((33, 21), "PNG")))
    cached = CachedStorage(storage=bare(azurite))
    for name in ("big.jpg", "pic.png"):
        with storage.open(name) as fh:
            assert cached.image_dimensions(name) == get_image_dimensions(fh)


def test_location_is_applied_and_taken_off(azurite: Azurite) -> None:
    """``./x`` and ``x`` are one blob under ``location``; ``relative`` gives the name back."""
    cached = CachedStorage(storage=bare(azurite, location="site"))
    name = cached.save("p/a.jpg", ContentFile(image_bytes((12, 8))))
    expected = bare(azurite, location="site").size(name)
    clear_local()
    caches["default"].clear()
    other = CachedStorage(storage=bare(azurite, location="site"))
    with azurite.counting() as requests:
        assert other.image_dimensions("./p/a.jpg") == (12, 8)
        assert other.size(name) == expected
    assert requests == {"get": 1}
    adapter = other.core.files
    assert adapter.canonical("./p/a.jpg") == "site/p/a.jpg"
    assert adapter.relative("site/p/a.jpg") == "p/a.jpg"
    assert bare(azurite).exists("site/p/a.jpg")


def test_missing_file_is_one_request(azurite: Azurite) -> None:
    cached = CachedStorage(storage=bare(azurite))
    with azurite.counting() as requests:
        assert cached.exists("nope.jpg") is False
        assert cached.exists("nope.jpg") is False
    assert requests == {"get": 1}


def test_empty_blob(azurite: Azurite) -> None:
    bare(azurite).save("empty.jpg", ContentFile(b""))
    cached = CachedStorage(storage=bare(azurite))
    with azurite.counting() as requests:
        assert cached.exists("empty.jpg")
        assert cached.size("empty.jpg") == 0
        assert cached.image_dimensions("empty.jpg") == (None, None)
    assert requests == {"get": 1}
    with azurite.counting() as requests:
        assert cached.get_modified_time("empty.jpg") == bare(azurite).get_modified_time("empty.jpg")
    assert requests == {"head": 2}  # asked once of the storage (kept), and the bare answer


def test_non_image_is_one_head(azurite: Azurite) -> None:
    bare(azurite).save("clip.mp4", ContentFile(b"\0" * 100_000))
    cached = CachedStorage(storage=bare(azurite))
    with azurite.counting() as requests:
        assert cached.size("clip.mp4") == 100_000
        assert cached.get_modified_time("clip.mp4") == bare(azurite).get_modified_time("clip.mp4")
    assert requests == {"head": 1 + 1}  # the probe, then the bare storage's own answer


def test_large_exif_costs_one_more_bounded_range(azurite: Azurite) -> None:
    data = jpeg_with_exif((4000, 3000), exif_bytes=65_400, icc_bytes=4_000)
    bare(azurite).save("big.jpg", ContentFile(data))
    cached = CachedStorage(storage=bare(azurite))
    with azurite.counting() as requests, count_calls() as calls:
        assert cached.image_dimensions("big.jpg") == (4000, 3000)
        assert cached.size("big.jpg") == len(data)
    assert requests == {"get": 2}
    assert calls.probe_bytes == 65_536 + 16_384
    assert len(data) > 200_000


def test_upload_is_one_write_and_no_read(azurite: Azurite) -> None:
    cached = CachedStorage(storage=bare(azurite))
    data = image_bytes((640, 480))
    with azurite.counting() as requests:
        name = cached.save("up/one.jpg", ContentFile(data, name="one.jpg"))
        assert cached.exists(name)
        assert cached.size(name) == len(data)
        assert cached.image_dimensions(name) == (640, 480)
        cached.url(name)
    assert requests == {"write": 1}
    # Without overwrite_files, get_available_name asks the storage (a HEAD), as
    # the bare storage's save does: a cached "missing" never picks a name.
    keeping = CachedStorage(storage=bare(azurite, overwrite_files=False))
    with azurite.counting() as requests:
        keeping.save("up/two.jpg", ContentFile(data, name="two.jpg"))
        assert keeping.size("up/two.jpg") == len(data)
    assert requests == {"head": 1, "write": 1}
    stored = bare(azurite)
    assert stored.size(name) == len(data)
    props = stored.client.get_blob_client(name).get_blob_properties()
    assert props.content_settings.content_type == "image/jpeg"


def test_renditions_are_one_write_and_one_read(azurite: Azurite) -> None:
    adapter = CachedStorage(storage=bare(azurite)).core.files
    data = image_bytes((20, 10), "PNG")
    with azurite.counting() as requests:
        adapter.write_file("r/a.png", data, content_type="image/png", cache_control="max-age=9")
        adapter.write_file("r/a.png", data, content_type="image/png", cache_control="max-age=9")
        assert adapter.read_file("r/a.png") == data
    assert requests == {"write": 2, "get": 1}
    props = bare(azurite).client.get_blob_client("r/a.png").get_blob_properties()
    settings = props.content_settings
    assert (settings.content_type, settings.cache_control) == ("image/png", "max-age=9")


@pytest.mark.parametrize("use_tz", [True, False])
def test_modified_time_is_the_wrapped_storages(azurite: Azurite, use_tz: bool) -> None:
    bare(azurite).save("a.jpg", ContentFile(image_bytes()))
    cached = CachedStorage(storage=bare(azurite))
    with override_settings(USE_TZ=use_tz, TIME_ZONE="Europe/Paris"):
        expected = bare(azurite).get_modified_time("a.jpg")
        with azurite.counting() as requests:
            first = cached.get_modified_time("a.jpg")
            again = cached.get_modified_time("a.jpg")
        assert first == again == expected
        assert (again.tzinfo is None) is (not use_tz)
        assert again.utcoffset() == expected.utcoffset()
        assert str(again) == str(expected)
    assert requests == {"get": 1}  # the probe, which tells Last-Modified


def test_identity_names_the_signer_never_its_secret(azurite: Azurite) -> None:
    one = CachedStorage(storage=bare(azurite))
    two = CachedStorage(storage=bare(azurite))
    other = CachedStorage(storage=bare(azurite, azure_container="other"))
    located = CachedStorage(storage=bare(azurite, location="x"))
    keyed = CachedStorage(
        storage=bare(azurite, connection_string=None, account_name=ACCOUNT, account_key=KEY)
    )
    sas = CachedStorage(
        storage=bare(azurite, connection_string=None, account_name=ACCOUNT, sas_token="sv=1&sig=s")
    )
    sas2 = CachedStorage(
        storage=bare(azurite, connection_string=None, account_name=ACCOUNT, sas_token="sv=1&sig=t")
    )
    shared = CachedStorage(
        storage=bare(
            azurite,
            connection_string=f"BlobEndpoint={azurite.endpoint};SharedAccessSignature=sv=1&sig=u",
        )
    )
    identities = [c.core.identity for c in (one, other, located, keyed, sas, sas2, shared)]
    assert one.core.identity == two.core.identity
    assert len(set(identities)) == len(identities)
    for identity in identities:
        assert KEY not in identity
        assert KEY[:16] not in identity
        assert "sig=" not in identity
    assert azurite.endpoint in one.core.identity


def test_sas_urls_are_memoized_until_the_margin(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch, events: Events
) -> None:
    import ikstorage.core.answers

    cached = CachedStorage(storage=bare(azurite, expiration_secs=3600), url_expiry_margin=300)
    now = [1_800_000_000.0]
    monkeypatch.setattr(ikstorage.core.answers.time, "time", lambda: now[0])
    with azurite.counting() as requests:
        first = cached.url("a.jpg")
        assert "sig=" in first
        assert "se=" in first
        assert cached.url("a.jpg") == first
        now[0] += 3600 - 300 - 1  # still outside the margin
        assert cached.url("a.jpg") == first
        assert events.storage["url"] == 1
        now[0] += 2  # inside the margin: signed again
        clear_local()
        cached.url("a.jpg")
    assert events.storage["url"] == 2
    assert requests == {}  # signed locally with the account key
    assert cached.core.files.url_lifetime() == 3600
    public = CachedStorage(storage=bare(azurite))
    assert public.core.files.url_lifetime() is None
    assert public.url("a.jpg") == f"{azurite.endpoint}/{CONTAINER}/a.jpg"


@pytest.mark.slow
@pytest.mark.redis
def test_new_process_pays_nothing(azurite: Azurite, redis_server: Server) -> None:
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{redis_server.port}/0",
    }
    names = [f"g/{i}.jpg" for i in range(5)]
    with override_settings(CACHES={"default": cache}):
        cached = CachedStorage(storage=bare(azurite))
        with azurite.counting() as requests:
            for i, name in enumerate(names):
                cached.save(name, ContentFile(image_bytes((50 + i, 30))))
        assert requests == {"write": 5}
        expected = [[50 + i, 30, cached.size(name)] for i, name in enumerate(names)]
    config = {"cache": cache, "connection_string": azurite.connection_string, "names": names}
    with azurite.counting() as requests:
        result = run_module("tests.scripts.azure_page", json.dumps(config))
    assert requests == {}
    assert result == {"answers": expected}


@pytest.mark.parametrize(
    ("status", "headers", "size"),
    [
        (206, {"Content-Range": "bytes 0-65535/1234567"}, 1234567),
        (416, {"Content-Range": "bytes */0"}, 0),
        (416, {}, 0),  # no byte 0, and no Content-Range either
        (200, {"Content-Length": "10"}, None),  # says nothing: the properties are asked
    ],
)
def test_total_size_from_a_ranged_answer(
    status: int, headers: dict[str, str], size: int | None
) -> None:
    from ikstorage.backends.azure import _size

    assert _size(status, headers) == size
