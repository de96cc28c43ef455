"""Bad input: a typed error that says why, no partial result, and bombs refused before decoding."""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageFile

from ikstorage.exceptions import (
    IkStorageError,
    RenditionError,
    TooManyPixelsError,
    UnreadableImageError,
)
from ikstorage.renditions import Spec, render
from tests.images import png_header_only
from tests.renditions.sources import jpeg_claiming, photo, save

SPECS = [Spec("thumb", fill=(20, 15)), Spec("large", fit=(64, 64), format="webp")]
PHOTO = photo((64, 48))


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fails the test if any pixel is decoded; yields the formats that tried."""
    tried: list[str] = []

    def refuse(self: Image.Image, *args: Any, **kwargs: Any) -> Any:
        tried.append(str(self.format))
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image.Image, "load", refuse)
    yield tried
    assert tried == []


@pytest.mark.parametrize(
    ("data", "width", "height"),
    [
        (png_header_only(8000, 8000), 8000, 8000),  # 64 MP: over our cap, under Pillow's
        (jpeg_claiming(9000, 9000), 9000, 9000),
    ],
)
def test_a_header_over_the_pixel_cap_is_refused_before_decoding(
    no_decoding: list[str], data: bytes, width: int, height: int
) -> None:
    with pytest.raises(TooManyPixelsError) as caught:
        render(io.BytesIO(data), SPECS)
    error = caught.value
    assert (error.width, error.height, error.limit) == (width, height, 50_000_000)
    assert error.reason == "too-many-pixels"
    assert f"{width}x{height} = {width * height} pixels" in str(error)
    assert "not decoded" in str(error)


def test_the_cap_is_the_callers(no_decoding: list[str]) -> None:
    with pytest.raises(TooManyPixelsError) as caught:
        render(io.BytesIO(PHOTO), SPECS, max_pixels=64 * 48 - 1)
    assert caught.value.limit == 64 * 48 - 1


def test_a_header_over_pillows_own_limit_is_refused_too(no_decoding: list[str]) -> None:
    # 400 MP: Pillow's DecompressionBombError fires inside Image.open, before any size is known.
    with pytest.raises(TooManyPixelsError) as caught:
        render(io.BytesIO(png_header_only(20_000, 20_000)), SPECS, max_pixels=10**12)
    assert (caught.value.width, caught.value.height) == (0, 0)
    assert "decompression bomb" in str(caught.value)


def _gif_with_a_far_frame() -> bytes:
    """A 1x1 GIF whose frame is placed at (65535, 65535): Pillow sizes it 2^32 pixels."""
    gif = bytearray(save(Image.new("P", (1, 1)), "GIF"))
    descriptor = gif.index(b"\x2c")
    gif[descriptor + 1 : descriptor + 5] = b"\xff\xff\xff\xff"
    return bytes(gif)


FAR_FRAME_GIF = _gif_with_a_far_frame()


def test_a_gif_whose_frame_lies_far_outside_is_refused(no_decoding: list[str]) -> None:
    with pytest.raises(TooManyPixelsError) as caught:
        render(io.BytesIO(FAR_FRAME_GIF), SPECS)
    assert "4294967296 pixels" in str(caught.value)


@pytest.mark.parametrize(
    ("data", "reason", "words"),
    [
        (b"", "empty", "empty (0 bytes)"),
        (b"%PDF-1.7\n" + b"x" * 500, "not-an-image", "not an image in an accepted format"),
        (b"hello, world\n" * 40, "not-an-image", "JPEG, PNG, GIF, WEBP, AVIF, TIFF, BMP"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "not-an-image", "not an image"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not-an-image", "not an image"),
    ],
)
def test_not_an_image(data: bytes, reason: str, words: str) -> None:
    with pytest.raises(UnreadableImageError) as caught:
        render(io.BytesIO(data), SPECS)
    assert caught.value.reason == reason
    assert words in str(caught.value)


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_truncated_jpeg_is_corrupt(cut: float) -> None:
    data = photo((320, 240))
    with pytest.raises(UnreadableImageError) as caught:
        render(io.BytesIO(data[: int(len(data) * cut)]), SPECS)
    assert caught.value.reason == "corrupt"
    assert "corrupt or truncated" in str(caught.value)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_other_truncated_formats_are_corrupt(fmt: str) -> None:
    image = Image.effect_noise((200, 150), 60).convert("RGB")
    data = save(image, fmt)
    with pytest.raises(UnreadableImageError) as caught:
        render(io.BytesIO(data[: len(data) // 2]), SPECS)
    assert caught.value.reason in ("corrupt", "not-an-image")


def test_garbage_inside_a_png_is_corrupt() -> None:
    data = bytearray(save(Image.effect_noise((64, 48), 60), "PNG"))
    start = data.index(b"IDAT") + 20
    data[start : start + 40] = b"\x00" * 40
    with pytest.raises(UnreadableImageError) as caught:
        render(io.BytesIO(bytes(data)), SPECS)
    assert caught.value.reason == "corrupt"


def test_errors_are_typed_picklable_and_not_value_errors() -> None:
    with pytest.raises(TooManyPixelsError) as caught:
        render(io.BytesIO(png_header_only(8000, 8000)), SPECS)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, TooManyPixelsError)
    assert (copy.width, copy.height, copy.limit) == (8000, 8000, 50_000_000)
    assert copy.reason == "too-many-pixels"
    for cls in (RenditionError, UnreadableImageError, TooManyPixelsError):
        assert issubclass(cls, IkStorageError)
        assert not issubclass(cls, ValueError | TypeError | OSError)
    assert pickle.loads(pickle.dumps(UnreadableImageError("x", reason="empty"))).reason == "empty"


def test_the_stream_position_is_restored_after_an_error() -> None:
    stream = io.BytesIO(b"not an image at all")
    stream.seek(5)
    with pytest.raises(UnreadableImageError):
        render(stream, SPECS)
    assert stream.tell() == 5
