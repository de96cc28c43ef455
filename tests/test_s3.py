"""CachedStorage over S3Storage on moto in-process: exact S3 calls by operation."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.template import Context, Template
from django.test import override_settings
from PIL import Image

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.profiler import count_calls
from tests.conftest import Events
from tests.images import image_bytes, jpeg_with_exif
from tests.testapp.models import Photo

PAGE = Template(
    "{% for p in photos %}<img src='{{ p.image.url }}' width='{{ p.image.width }}' "
    "height='{{ p.image.height }}' data-bytes='{{ p.image.size }}'>{% endfor %}"
)


def s3_settings(**s3_options: Any) -> dict[str, Any]:
    return {
        "s3": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "media", "querystring_auth": False, **s3_options},
        },
        "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "s3"}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def render(photos: list[Photo]) -> str:
    return PAGE.render(Context({"photos": photos}))


def test_probe_is_one_ranged_get(s3: Any, s3_storage: Any, events: Events) -> None:
    s3.put_object(Bucket="media", Key="a.jpg", Body=image_bytes((300, 200)))
    storage = CachedStorage(storage=s3_storage)
    with count_calls() as calls:
        record = storage.metadata("a.jpg")
        storage.exists("a.jpg")
        storage.size("a.jpg")
        storage.get_modified_time("a.jpg")
        assert storage.image_dimensions("a.jpg") == (300, 200)
    assert calls.s3 == {"GetObject": 1}
    assert record.etag
    assert record.modified
    assert record.size == len(image_bytes((300, 200)))
    assert events.storage == {"probe": 1}


def test_missing_and_non_images(s3: Any, s3_storage: Any) -> None:
    s3.put_object(Bucket="media", Key="clip.mp4", Body=b"\0" * 100_000)
    s3.put_object(Bucket="media", Key="empty.jpg", Body=b"")
    storage = CachedStorage(storage=s3_storage)
    with count_calls() as calls:
        assert storage.exists("nope.jpg") is False
        assert storage.exists("nope.jpg") is False
    assert calls.s3 == {"GetObject": 1}
    with count_calls() as calls:
        assert storage.size("clip.mp4") == 100_000
        # Not determined: an ImageFile asking reads it Django's way, once.
        assert storage.image_dimensions("clip.mp4") is None
    assert calls.s3 == {"HeadObject": 1}
    assert calls.bytes_downloaded == 0
    with count_calls() as calls:  # an empty object has no byte 0 to range over
        assert storage.size("empty.jpg") == 0
        assert storage.image_dimensions("empty.jpg") == (None, None)
    assert calls.s3 == {"GetObject": 1, "HeadObject": 1}


def test_upload_is_one_put_and_nothing_else(s3: Any, s3_storage: Any) -> None:
    storage = CachedStorage(storage=s3_storage)
    data = image_bytes((640, 480))
    with count_calls() as calls:
        name = storage.save("up/one.jpg", ContentFile(data, name="one.jpg"))
        assert storage.exists(name)
        assert storage.size(name) == len(data)
        assert storage.image_dimensions(name) == (640, 480)
        storage.url(name)
    assert calls.s3 == {"PutObject": 1}


def test_large_exif_costs_one_more_bounded_range(s3: Any, s3_storage: Any) -> None:
    """A 12-megapixel JPEG whose header runs past the first 64 KiB."""
    data = jpeg_with_exif((4000, 3000), exif_bytes=65_400, icc_bytes=4_000)
    s3.put_object(Bucket="media", Key="big.jpg", Body=data)
    storage = CachedStorage(storage=s3_storage)
    with count_calls() as calls:
        assert storage.image_dimensions("big.jpg") == (4000, 3000)
    assert calls.s3 == {"GetObject": 2}
    assert calls.bytes_downloaded == 65_536 + 16_384
    assert calls.probe_bytes == 65_536 + 16_384
    assert len(data) > 200_000


def test_a_long_header_of_tiny_segments_costs_few_ranges(s3: Any, s3_storage: Any) -> None:
    """400 KB of empty JPEG comments before the frame: the probe walks on, each
    follow-up twice the one before (64 KiB, then 16, 32, 64, 128 KiB, then the
    rest of the file), instead of one 16 KiB range after another."""
    data = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 100_000 + image_bytes((64, 48))[2:]
    s3.put_object(Bucket="media", Key="comments.jpg", Body=data)
    storage = CachedStorage(storage=s3_storage)
    with count_calls() as calls:
        assert storage.image_dimensions("comments.jpg") == (64, 48)
    assert calls.s3 == {"GetObject": 6}  # 22 with 16 KiB follow-ups
    assert calls.probe_bytes == len(data) < 512 * 1024


def test_stale_negative_with_file_overwrite_false(s3: Any) -> None:
    """Invariant 1 on S3: a cached "missing" never makes a taken name look free."""
    from storages.backends.s3 import S3Storage

    storage = CachedStorage(
        storage=S3Storage(bucket_name="media", file_overwrite=False, querystring_auth=False)
    )
    assert storage.exists("photo.jpg") is False
    s3.put_object(Bucket="media", Key="photo.jpg", Body=b"precious")
    with count_calls() as calls:
        name = storage.save("photo.jpg", ContentFile(image_bytes(), name="photo.jpg"))
    assert name != "photo.jpg"
    assert calls.s3 == {"HeadObject": 2, "PutObject": 1}
    assert s3.get_object(Bucket="media", Key="photo.jpg")["Body"].read() == b"precious"


def test_presigned_urls_are_memoized_until_the_margin(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storages.backends.s3 import S3Storage

    import ikstorage.core.answers

    signed = S3Storage(bucket_name="media", querystring_auth=True, querystring_expire=3600)
    storage = CachedStorage(storage=signed, url_expiry_margin=300)
    now = [1_800_000_000.0]
    monkeypatch.setattr(ikstorage.core.answers.time, "time", lambda: now[0])
    with count_calls() as calls:
        first = storage.url("a.jpg")
        assert storage.url("a.jpg") == first
        now[0] += 3600 - 300 - 1  # still outside the margin
        assert storage.url("a.jpg") == first
    assert calls.presigned == {"GetObject": 1}
    assert calls.s3 == {}
    now[0] += 2  # inside the margin: never handed out
    clear_local()
    with count_calls() as calls:
        storage.url("a.jpg")
    assert calls.presigned == {"GetObject": 1}


def test_presigned_urls_shorter_than_the_margin_are_not_memoized(s3: Any) -> None:
    from storages.backends.s3 import S3Storage

    signed = S3Storage(bucket_name="media", querystring_auth=True, querystring_expire=60)
    storage = CachedStorage(storage=signed, url_expiry_margin=300)
    with count_calls() as calls:
        storage.url("a.jpg")
        storage.url("a.jpg")
    assert calls.presigned == {"GetObject": 2}


def test_url_lifetime_by_configuration(s3: Any) -> None:
    from storages.backends.s3 import S3Storage

    def lifetime(**options: Any) -> int | None:
        storage = CachedStorage(storage=S3Storage(bucket_name="media", **options))
        return storage.core.files.url_lifetime()

    assert lifetime(querystring_auth=False) is None
    assert lifetime(querystring_auth=True, querystring_expire=900) == 900
    assert lifetime(custom_domain="cdn.example.com", querystring_auth=True) is None
    assert lifetime(custom_domain="cdn.example.com", querystring_expire=900) is None
    signer = object()  # any configured CloudFront signer makes custom-domain URLs expire
    assert (
        lifetime(custom_domain="cdn.example.com", cloudfront_signer=signer, querystring_expire=7)
        == 7
    )


def test_buckets_and_locations_never_share_records(s3: Any) -> None:
    from storages.backends.s3 import S3Storage

    s3.create_bucket(Bucket="other")
    a = CachedStorage(storage=S3Storage(bucket_name="media"))
    b = CachedStorage(storage=S3Storage(bucket_name="other"))
    c = CachedStorage(storage=S3Storage(bucket_name="media", location="sub"))
    d = CachedStorage(storage=S3Storage(bucket_name="media", endpoint_url="http://127.0.0.1:1"))
    a.save("x.jpg", ContentFile(image_bytes()))
    assert len({s.core.keys.record("x.jpg") for s in (a, b, c, d)}) == 4
    assert b.exists("x.jpg") is False
    assert c.exists("x.jpg") is False


@pytest.mark.django_db
def test_page_of_100_images(s3: Any) -> None:
    """The DESIGN table: S3 calls per image for cold, warm and new-process renders."""
    with override_settings(STORAGES=s3_settings()):
        for i in range(100):
            Photo.objects.create(image=ContentFile(image_bytes((60 + i, 40)), name=f"p{i}.jpg"))

        def page() -> tuple[dict[str, int], str]:
            photos = list(Photo.objects.order_by("id"))
            with count_calls() as calls:
                html = render(photos)
            return calls.s3, html

        # Saved through ikstorage in this process: nothing to ask S3.
        assert page()[0] == {}
        # Uploaded by someone else (cold caches): one ranged GET per image.
        clear_local()
        from django.core.cache import caches

        caches["default"].clear()
        cold, html = page()
        assert cold == {"GetObject": 100}
        assert "width='159' height='40'" in html
        # Warm, same process.
        assert page() == ({}, html)
        # A new process that shares only L2.
        clear_local()
        assert page() == ({}, html)

    with override_settings(STORAGES={**s3_settings(), "default": s3_settings()["s3"]}):
        plain, plain_html = page()
        assert plain == {"HeadObject": 300, "GetObject": 100}
        assert plain_html == html


@pytest.mark.django_db
def test_new_process_page_is_one_round_trip_with_prefetch(s3: Any, events: Events) -> None:
    with override_settings(STORAGES=s3_settings()):
        photos = [
            Photo.objects.create(image=ContentFile(image_bytes(), name=f"q{i}.jpg"))
            for i in range(30)
        ]
        render(photos)
        clear_local()
        events.round_trips.clear()
        photos = list(Photo.objects.all())
        photos[0].image.storage.prefetch(p.image for p in photos)
        with count_calls() as calls:
            render(photos)
        assert calls.s3 == {}
        assert events.round_trips == {"get_many": 1}


BAD_INPUTS: list[tuple[str, bytes, tuple[int | None, int | None]]] = [
    ("corrupt.jpg", b"\xff\xd8\xff" + bytes(range(256)) * 4, (None, None)),
    ("cut-in-header.jpg", image_bytes((77, 55))[:300], (None, None)),
    (
        "cut-in-scan.jpg",
        image_bytes((77, 55))[: image_bytes((77, 55)).find(b"\xff\xda") + 40],
        (77, 55),
    ),
    ("zero.jpg", b"", (None, None)),
    ("text.png", b"not an image at all", (None, None)),
    ("cmyk.jpg", image_bytes((33, 22), mode="CMYK"), (33, 22)),
    ("deep.png", image_bytes((21, 12), "PNG", mode="I;16"), (21, 12)),
    ("anim.gif", b"", (50, 40)),
    ("rotated.jpg", b"", (80, 30)),
]


def _animated_gif() -> bytes:
    frames = [Image.new("P", (50, 40), i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50)
    return buf.getvalue()


def _rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    buf = io.BytesIO()
    Image.new("RGB", (80, 30)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


@pytest.mark.parametrize(("name", "data", "dims"), BAD_INPUTS)
def test_bad_images_are_stored_with_honest_dimensions(
    s3: Any, s3_storage: Any, name: str, data: bytes, dims: tuple[int | None, int | None]
) -> None:
    """Stored exactly as S3Storage stores them; dimensions as Django reports (raw, unrotated)."""
    from django.core.files.images import get_image_dimensions

    data = {"anim.gif": _animated_gif, "rotated.jpg": _rotated_jpeg}.get(name, lambda: data)()
    storage = CachedStorage(storage=s3_storage)
    with count_calls() as calls:
        saved = storage.save(name, ContentFile(data, name=name))
        assert storage.image_dimensions(saved) == dims
        assert storage.size(saved) == len(data)
    assert calls.s3 == {"PutObject": 1}
    assert s3.get_object(Bucket="media", Key=saved)["Body"].read() == data
    assert get_image_dimensions(io.BytesIO(data)) == dims
    clear_local()
    from django.core.cache import caches

    caches["default"].clear()
    assert storage.image_dimensions(saved) == dims  # and the same when probed from S3


def test_decompression_bomb_is_stored_and_refused_as_django_refuses_it(
    s3: Any, s3_storage: Any
) -> None:
    """Django's ``.width`` raises DecompressionBombError for a bomb header; so does ours."""
    from django.core.files.images import ImageFile
    from PIL import Image

    from tests.images import png_header_only

    data = png_header_only(100_000, 100_000)
    storage = CachedStorage(storage=s3_storage)
    with count_calls() as calls:
        saved = storage.save("bomb.png", ContentFile(data, name="bomb.png"))
    assert calls.s3 == {"PutObject": 1}
    assert s3.get_object(Bucket="media", Key=saved)["Body"].read() == data  # nothing lost
    assert storage.image_dimensions(saved) is None  # unknown: Django's own way decides
    with storage.open(saved) as opened, pytest.raises(Image.DecompressionBombError):
        _ = ImageFile(opened).width
    clear_local()
    from django.core.cache import caches

    caches["default"].clear()
    with count_calls() as calls:
        assert storage.image_dimensions(saved) is None  # the cold probe agrees
    assert calls.s3 == {"GetObject": 1}


@pytest.mark.parametrize(
    "name",
    ["../escape.jpg", "/etc/passwd.jpg", "a/../../b.jpg"],
)
def test_traversal_names_are_refused_as_s3storage_refuses_them(s3_storage: Any, name: str) -> None:
    from django.core.exceptions import SuspiciousOperation

    storage = CachedStorage(storage=s3_storage)
    with pytest.raises(SuspiciousOperation) as raw:
        s3_storage.save(name, ContentFile(b"x"))
    with pytest.raises(type(raw.value)):
        storage.save(name, ContentFile(b"x"))
    assert storage.core.cache.get(storage.core.keys.record(name)) is None


@pytest.mark.parametrize("name", ["ü/фото 😀.jpg", "long/" + "n" * 990 + ".jpg"])
def test_unicode_and_long_names(s3: Any, s3_storage: Any, name: str) -> None:
    storage = CachedStorage(storage=s3_storage)
    saved = storage.save(name, ContentFile(image_bytes((12, 10)), name="x.jpg"))
    assert saved == name
    clear_local()
    from django.core.cache import caches

    caches["default"].clear()
    with count_calls() as calls:
        assert storage.image_dimensions(saved) == (12, 10)
    assert calls.s3 == {"GetObject": 1}


def test_a_save_drops_the_cached_folder_keys_above_it(
    s3: Any, s3_storage: Any, events: Events
) -> None:
    """S3-compatible servers with a file tree answer for ``dir/`` once a file is under it
    (tests/test_seaweedfs.py); a save forgets ``dir/`` records in the lease's round trip."""
    storage = CachedStorage(storage=s3_storage)
    assert storage.exists("dir/") is False
    assert storage.exists("dir/sub/") is False
    s3.put_object(Bucket="media", Key="dir/", Body=b"")  # as such a server would show it
    events.round_trips.clear()
    storage.save("top.jpg", ContentFile(image_bytes()))
    flat = dict(events.round_trips)
    events.round_trips.clear()
    storage.save("dir/sub/x.jpg", ContentFile(image_bytes()))
    assert events.round_trips == flat  # no round trip more than a save at the top
    with count_calls() as calls:
        assert storage.exists("dir/") is True
        assert storage.exists("dir/sub/") is False
    assert calls.s3 == {"HeadObject": 2}  # both asked again
