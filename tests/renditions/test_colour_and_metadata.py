"""Colour comes out as sRGB whatever the source stored; no metadata comes out at all."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageCms

from ikstorage.renditions import Spec, render
from tests.renditions.sources import (
    MARKER,
    display_p3_profile,
    png_16bit_rgb,
    save,
    with_metadata,
)

OUTPUT_FORMATS = ["jpeg", "png", "webp", "avif", "gif"]


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def near(a: Any, b: Any, tolerance: int) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_an_icc_profiled_source_is_converted_to_srgb(fmt: str) -> None:
    p3 = display_p3_profile()
    colour = (220, 60, 40)
    data = save(Image.new("RGB", (64, 48), colour), fmt, icc_profile=p3, quality=98)
    reference = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), colour),
        ImageCms.ImageCmsProfile(io.BytesIO(p3)),
        ImageCms.createProfile("sRGB"),
    )
    assert reference is not None
    expected = reference.getpixel((0, 0))
    assert isinstance(expected, tuple)
    assert not near(expected, colour, 15)  # the conversion is visible: (241, 30, 4)
    rendered = render(io.BytesIO(data), [Spec("p", width=32, format="png")])
    image = opened(rendered.outputs[0].data)
    assert near(image.getpixel((16, 12)), expected, 3)
    assert "icc_profile" not in image.info
    assert rendered.notes == ()
    assert rendered.placeholder is not None
    assert near(_hex(rendered.placeholder.color), expected, 12)


def test_an_unusable_profile_is_ignored_with_a_note() -> None:
    data = save(Image.new("RGB", (20, 20), (10, 200, 30)), "PNG", icc_profile=b"not a profile")
    rendered = render(io.BytesIO(data), [Spec("p", width=10), Spec("q", width=8)])
    assert near(opened(rendered.outputs[0].data).getpixel((5, 5)), (10, 200, 30), 1)
    assert rendered.notes == ("The embedded ICC profile is unusable: pixels were taken as sRGB.",)


@pytest.mark.parametrize("size", [(40, 30), (640, 480)])  # the second is shrunk on load
def test_cmyk_jpeg_renders_in_rgb(size: tuple[int, int]) -> None:
    data = save(Image.new("CMYK", size, (255, 0, 0, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    rendered = render(
        io.BytesIO(data), [Spec("j", width=20, format="jpeg"), Spec("w", width=20, format="webp")]
    )
    for output in rendered.outputs:
        image = opened(output.data)
        assert image.mode == "RGB"
        assert near(image.getpixel((10, 7)), (0, 255, 255), 6)
    assert rendered.placeholder is not None
    assert near(_hex(rendered.placeholder.color), (0, 255, 255), 8)


def test_16_bit_grey_png_is_scaled_not_clipped() -> None:
    data = save(Image.new("I;16", (40, 30), 40000), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    png, jpeg = render(
        io.BytesIO(data), [Spec("p", width=20), Spec("j", width=20, format="jpeg")]
    ).outputs
    image = opened(png.data)
    assert image.mode == "L"
    assert image.getpixel((10, 7)) == 156  # 40000 / 256, where Pillow's convert gives 255
    assert abs(opened(jpeg.data).getpixel((10, 7)) - 156) <= 1  # type: ignore[operator]


def test_16_bit_rgb_png_renders() -> None:
    data = png_16bit_rgb(40, 30, (0xABCD, 0x1234, 0xFFFF))
    (png,) = render(io.BytesIO(data), [Spec("p", width=20)]).outputs
    assert opened(png.data).getpixel((10, 7)) == (0xAB, 0x12, 0xFF)


@pytest.mark.parametrize("source_format", ["JPEG", "PNG", "WEBP"])
def test_no_metadata_survives_in_any_output(source_format: str) -> None:
    data = with_metadata(source_format)
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the source has a GPS position
    assert "icc_profile" in source.info
    specs = [Spec(fmt, fit=(48, 48), format=fmt) for fmt in OUTPUT_FORMATS]
    rendered = render(io.BytesIO(data), specs)
    assert [o.format for o in rendered.outputs] == OUTPUT_FORMATS
    for output in rendered.outputs:
        assert MARKER.encode() not in output.data, output.format
        assert b"ExampleCam" not in output.data, output.format
        assert b"Exif" not in output.data, output.format
        image = opened(output.data)
        assert not image.getexif(), output.format
        for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "dpi"):
            assert key not in image.info, (output.format, key)
        assert not getattr(image, "text", {}), output.format
    assert MARKER.encode() not in rendered.placeholder.lqip.encode()  # type: ignore[union-attr]


def _hex(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
