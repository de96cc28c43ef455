"""Bad input loses nothing: the source is saved as S3Storage alone saves it, failures are
logged once and recorded, and ``rendition()`` falls back or raises as configured.

CMYK and 16-bit sources are not failures: they are converted to 8-bit sRGB.
A rendition that cannot be written is left out of the record (it is made
again when asked); the source is never deleted because a rendition failed.
"""

from __future__ import annotations

import io
import logging
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from ikstorage import cache as ik_cache
from ikstorage.exceptions import MissingRenditionError
from ikstorage.profiler import count_calls
from tests.images import image_bytes, png_header_only
from tests.renditions.sources import jpeg_claiming, photo, png_16bit_rgb, save
from tests.renditions_storage.helpers import OUTPUTS, SOURCE, SOURCE_V2, cached, decoded, listing

LOGGER = "ikstorage.renditions"


def png_with_a_broken_stream() -> bytes:
    """A PNG whose compressed pixels are garbage (chunk CRCs kept valid)."""
    png = image_bytes((64, 48), "PNG")
    at = png.index(b"IDAT")
    (length,) = struct.unpack(">I", png[at - 4 : at])
    body = bytes(b ^ 0x5A for b in png[at + 4 : at + 4 + length])
    crc = struct.pack(">I", zlib.crc32(b"IDAT" + body) & 0xFFFFFFFF)
    return png[: at + 4] + body + crc + png[at + 8 + length :]


JPEG = photo((640, 480))
#: (name, bytes, the reason recorded): sources that cannot be rendered.
FAILING = {
    "not-an-image": ("bad/text.jpg", b"this is not an image", "not-an-image"),
    "empty": ("bad/empty.jpg", b"", "empty"),
    "truncated": ("bad/truncated.jpg", JPEG[: len(JPEG) // 2], "corrupt"),
    "corrupt": ("bad/corrupt.png", png_with_a_broken_stream(), "corrupt"),
    "bomb-png": ("bad/bomb.png", png_header_only(8000, 8000), "too-many-pixels"),
    "bomb-jpeg": ("bad/bomb.jpg", jpeg_claiming(9000, 9000), "too-many-pixels"),
}


def warnings_about(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.levelno >= logging.WARNING and repr(name) in r.getMessage()
    ]


@pytest.mark.parametrize(("name", "data", "reason"), FAILING.values(), ids=list(FAILING))
def test_a_source_that_cannot_be_rendered_is_saved_as_is_and_recorded(
    s3: Any, s3_storage: Any, caplog: pytest.LogCaptureFixture, name: str, data: bytes, reason: str
) -> None:
    storage = cached(s3_storage)
    with count_calls() as calls:
        assert storage.save(name, ContentFile(data)) == name
    assert calls.s3 == {"PutObject": 1}
    # Exactly what S3Storage itself stores for the same content.
    assert s3_storage.save(f"plain/{name}", ContentFile(data)) == f"plain/{name}"
    ours, theirs = (s3.get_object(Bucket="media", Key=k) for k in (name, f"plain/{name}"))
    assert ours["Body"].read() == theirs["Body"].read() == data
    for header in ("ContentType", "ContentLength", "ContentEncoding", "CacheControl"):
        assert ours.get(header) == theirs.get(header), header
    assert listing(s3) == sorted([name, f"plain/{name}"])
    record = storage.metadata(name)
    assert (record.exists, record.size, record.renditions) == (True, len(data), ())
    assert record.rendition_error == reason
    assert len(warnings_about(caplog, name)) == 1

    # Recorded, so asking again neither downloads nor renders nor logs, in any process.
    for fresh in (False, True):
        if fresh:
            ik_cache.clear_local()
        with count_calls() as calls:
            shown = [storage.rendition(name, spec) for spec in ("thumb", "large", "thumb")]
        assert calls.s3 == {}
        assert {(r.url, r.name, r.fallback) for r in shown} == {(storage.url(name), name, True)}
    assert len(warnings_about(caplog, name)) == 1
    assert listing(s3) == sorted([name, f"plain/{name}"])


@pytest.mark.parametrize("policy", ["generate", "fallback", "error"])
def test_rendition_of_a_failed_source_follows_the_setting(
    s3: Any, s3_storage: Any, policy: str
) -> None:
    name, data, reason = FAILING["truncated"]
    storage = cached(s3_storage, missing_renditions=policy)
    storage.save(name, ContentFile(data))
    with count_calls() as calls:
        if policy == "error":
            with pytest.raises(MissingRenditionError) as caught:
                storage.rendition(name, "thumb")
            assert caught.value.reason == reason
            assert reason in str(caught.value)
        else:
            shown = storage.rendition(name, "thumb")
            assert (shown.fallback, shown.url, shown.width, shown.height) == (
                True,
                storage.url(name),
                640,
                480,
            )
    assert calls.s3 == {}


@pytest.mark.parametrize(("name", "data", "reason"), FAILING.values(), ids=list(FAILING))
def test_a_legacy_source_that_cannot_be_rendered_is_tried_once(
    s3: Any, s3_storage: Any, caplog: pytest.LogCaptureFixture, name: str, data: bytes, reason: str
) -> None:
    s3.put_object(Bucket="media", Key=name, Body=data)
    storage = cached(s3_storage)
    with count_calls() as calls:
        first = storage.rendition(name, "thumb")
    # One GET: the probe reads the header, then on through the file, unless the record
    # or the header already says why it cannot be rendered (empty, no dimensions where
    # Django finds none, or more pixels than max_pixels): then it reads no further.
    # (test_legacy_one_read.py shows the difference on files larger than the header read;
    # these are smaller, so their header read holds them whole.)
    assert calls.s3 == {"GetObject": 1}
    assert calls.probe_bytes == calls.bytes_downloaded == len(data)
    assert first.fallback is True
    assert storage.metadata(name).rendition_error == reason
    for fresh in (False, True):
        if fresh:
            ik_cache.clear_local()
        with count_calls() as calls:
            assert storage.rendition(name, "large").fallback is True
        assert calls.s3 == {}
    assert len(warnings_about(caplog, name)) == 1
    assert listing(s3) == [name]


def test_a_page_refuses_from_the_record_a_large_file_with_no_dimensions(
    s3: Any, s3_storage: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A 2 MB ``.jpg`` in which Django finds no dimensions is never downloaded by a page."""
    name, data = "legacy/video.jpg", b"\x00\x00\x00\x18ftypmp42" + bytes(2_000_000)
    s3.put_object(Bucket="media", Key=name, Body=data)
    storage = cached(s3_storage)
    record = storage.metadata(name)  # the probe: one ranged GET of 64 KiB
    assert (record.dimensions_known, record.dimensions) == (True, (None, None))
    with count_calls() as calls:
        shown = storage.rendition(name, "thumb")
    assert (calls.s3, calls.bytes_downloaded) == ({}, 0)
    assert (shown.fallback, shown.url) == (True, storage.url(name))
    assert storage.metadata(name).rendition_error == "not-an-image"
    assert len(warnings_about(caplog, name)) == 1
    # Recorded: no page asks again, in this process or another.
    for fresh in (False, True):
        if fresh:
            ik_cache.clear_local()
        with count_calls() as calls:
            assert storage.rendition(name, "large").fallback is True
        assert (calls.s3, calls.round_trips) == ({}, {} if not fresh else {"get_many": 1})
    assert listing(s3) == [name]


@pytest.mark.parametrize(
    ("name", "data", "pixel"),
    [
        ("odd/cmyk.jpg", save(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), "JPEG"), (254, 0, 0)),
        ("odd/deep.png", png_16bit_rgb(64, 48, (65535, 0, 0)), (255, 0, 0)),
    ],
    ids=["cmyk", "16-bit"],
)
def test_cmyk_and_16_bit_sources_get_8_bit_srgb_renditions(
    s3: Any, s3_storage: Any, name: str, data: bytes, pixel: tuple[int, int, int]
) -> None:
    storage = cached(s3_storage, specs={"thumb": {"fill": [20, 15], "formats": ["webp", "png"]}})
    with count_calls() as calls:
        storage.save(name, ContentFile(data))
    assert calls.s3 == {"PutObject": 3}
    assert s3.get_object(Bucket="media", Key=name)["Body"].read() == data
    record = storage.metadata(name)
    assert (record.width, record.height, record.rendition_error) == (64, 48, None)
    for info in record.renditions:
        body = s3.get_object(Bucket="media", Key=info.name)["Body"].read()
        assert decoded(body)[1:] == ((20, 15), "RGB")
        with Image.open(io.BytesIO(body)) as image:
            shown = image.convert("RGB").getpixel((10, 7))
        assert isinstance(shown, tuple)
        assert max(abs(a - b) for a, b in zip(shown, pixel, strict=True)) <= 3, (info.format, shown)
    assert listing(s3) == sorted([name, *(r.name for r in record.renditions)])


# -- renditions whose write fails ------------------------------------------------------


def failing_writes(
    storage: Any, monkeypatch: pytest.MonkeyPatch, fails: Callable[[str], bool]
) -> None:
    write = storage.core.files.write_file

    def write_file(name: str, data: bytes, **kwargs: Any) -> None:
        if fails(name):
            raise OSError(f"S3 refused {name}")
        write(name, data, **kwargs)

    monkeypatch.setattr(storage.core.files, "write_file", write_file)


def test_a_rendition_whose_write_fails_is_not_in_the_record(
    s3: Any, s3_storage: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    storage = cached(s3_storage)
    failing_writes(storage, monkeypatch, lambda name: name.endswith(".webp"))
    with count_calls() as calls:
        storage.save("photos/a.jpg", ContentFile(SOURCE))
    assert calls.s3 == {"PutObject": 1 + OUTPUTS - 1}
    record = storage.metadata("photos/a.jpg")
    assert sorted((r.spec, r.format) for r in record.renditions) == [
        ("large", "jpeg"),
        ("thumb", "jpeg"),
    ]
    assert record.rendition_error is None  # not the source's fault: made again when asked
    assert listing(s3) == sorted(["photos/a.jpg", *(r.name for r in record.renditions)])
    assert any("Could not store rendition" in m for m in warnings_about(caplog, "photos/a.jpg"))
    monkeypatch.undo()  # S3 accepts writes again: the first page asking makes the missing one
    with count_calls() as calls:
        webp = storage.rendition("photos/a.jpg", "thumb", "webp")
    assert calls.s3 == {"GetObject": 1, "PutObject": 1}
    assert (webp.format, webp.fallback) == ("webp", False)
    assert len(listing(s3)) == 1 + OUTPUTS


def test_the_source_is_kept_when_every_rendition_write_fails(
    s3: Any, s3_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = cached(s3_storage)
    storage.save("photos/a.jpg", ContentFile(SOURCE))
    failing_writes(storage, monkeypatch, lambda name: True)
    with count_calls() as calls:
        assert storage.save("photos/a.jpg", ContentFile(SOURCE_V2)) == "photos/a.jpg"
    # The new source is written; the old version's renditions go; none of the new ones made it.
    assert calls.s3 == {"PutObject": 1, "DeleteObjects": 1}
    assert listing(s3) == ["photos/a.jpg"]
    assert s3.get_object(Bucket="media", Key="photos/a.jpg")["Body"].read() == SOURCE_V2
    assert storage.metadata("photos/a.jpg").renditions == ()
    assert storage.rendition("photos/a.jpg", "thumb", "webp").fallback is True


def test_an_unexpected_rendering_error_does_not_lose_the_source(
    s3: Any, s3_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ikstorage.renditions.image import pipeline

    def out_of_memory(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(pipeline, "render", out_of_memory)
    storage = cached(s3_storage)
    assert storage.save("photos/a.jpg", ContentFile(SOURCE)) == "photos/a.jpg"
    assert listing(s3) == ["photos/a.jpg"]
    assert storage.metadata("photos/a.jpg").renditions == ()


# -- names ---------------------------------------------------------------------------------


def test_unicode_and_long_names_get_ascii_rendition_names_and_leave_nothing_behind(
    s3: Any, s3_storage: Any
) -> None:
    storage = cached(s3_storage)
    names = ["фото/Ünïcode ñame 😀.jpg", f"{'d' * 200}/{'n' * 200}.jpg"]
    for name in names:
        with count_calls() as calls:
            assert storage.save(name, ContentFile(SOURCE)) == name
        assert calls.s3 == {"PutObject": 1 + OUTPUTS}
        made = [r.name for r in storage.metadata(name).renditions]
        assert len(made) == OUTPUTS
        assert all(n.isascii() and n.startswith("renditions/") and len(n) < 250 for n in made)
        assert listing(s3) == sorted([name, *made])
        storage.delete(name)
        assert listing(s3) == []


def test_a_name_the_storage_refuses_writes_nothing(s3: Any, s3_storage: Any) -> None:
    from django.core.exceptions import SuspiciousOperation

    storage = cached(s3_storage)
    with pytest.raises(SuspiciousOperation) as ours:
        storage.save("../outside.jpg", ContentFile(SOURCE))
    with pytest.raises(SuspiciousOperation) as theirs:
        s3_storage.save("../outside.jpg", ContentFile(SOURCE))
    assert type(ours.value) is type(theirs.value)
    assert listing(s3) == []
