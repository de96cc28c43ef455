"""render(): one decode, every spec, exact sizes, upright output, shrink-on-load, animation."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageFile, JpegImagePlugin

from ikstorage.renditions import DEFAULT_MAX_PIXELS, Spec, render
from tests.renditions.sources import (
    QUADRANTS,
    animated_gif,
    apng_with_a_broken_frame,
    oriented_jpeg,
    photo,
    save,
)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close(a: Any, b: Any, tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int]]]:
    """Every pixel decode of a file: (format, size decoded at)."""
    seen: list[tuple[str, tuple[int, int]]] = []
    original = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> Any:
        if self.tile:
            seen.append((str(self.format), self.size))
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return seen


def test_every_spec_from_one_decode_at_the_smallest_scale_that_suffices(
    decodes: list[tuple[str, tuple[int, int]]],
) -> None:
    data = photo((1600, 1200))
    specs = [
        Spec("thumb", fill=(100, 75)),
        Spec("square", fill=(64, 64), format="png"),
        Spec("column", width=400, format="webp"),
        Spec("tall", height=90, format="avif"),
    ]
    rendered = render(io.BytesIO(data), specs)
    # One decode, at 1/2: "column" needs 400 of 1600 columns, 1/4 would give exactly 400.
    assert decodes == [("JPEG", (400, 300))]
    assert [(o.spec.name, o.width, o.height, o.format) for o in rendered.outputs] == [
        ("thumb", 100, 75, "jpeg"),
        ("square", 64, 64, "png"),
        ("column", 400, 300, "webp"),
        ("tall", 120, 90, "avif"),
    ]
    for output in rendered.outputs:
        image = opened(output.data)
        assert image.size == (output.width, output.height)
        assert image.format == output.format.upper()
        assert output.size == len(output.data)
        assert output.frames == 1
    assert [(o.extension, o.content_type) for o in rendered.outputs] == [
        ("jpg", "image/jpeg"),
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("avif", "image/avif"),
    ]
    assert (rendered.source_format, rendered.width, rendered.height) == ("JPEG", 1600, 1200)
    assert rendered.frames == 1
    assert rendered.notes == ()


@pytest.mark.parametrize(
    ("specs", "decoded"),
    [
        ([Spec("t", fill=(200, 150))], (200, 150)),  # 1/8
        ([Spec("t", fill=(200, 150)), Spec("l", fit=(800, 800))], (800, 600)),  # 1/2
        ([Spec("t", fill=(200, 150)), Spec("l", fit=(801, 801))], (1600, 1200)),  # full
        ([Spec("t", width=201)], (400, 300)),  # 1/4
        ([], (200, 150)),  # the placeholder alone needs little
    ],
)
def test_the_most_demanding_spec_sets_the_decode_scale(
    decodes: list[tuple[str, tuple[int, int]]],
    specs: list[Spec],
    decoded: tuple[int, int],
) -> None:
    render(io.BytesIO(photo((1600, 1200))), specs)
    assert decodes == [("JPEG", decoded)]


def test_draft_is_asked_for_in_stored_orientation(monkeypatch: pytest.MonkeyPatch) -> None:
    requests: list[tuple[int, int] | None] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(self: Any, mode: str | None, size: tuple[int, int] | None) -> Any:
        requests.append(size)
        return original(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    # Stored 48x64 with orientation 6: shown 64x48; "width=24" is 24x18 upright, 18x24 stored.
    render(io.BytesIO(oriented_jpeg(6)), [Spec("w", width=24)], placeholder=False)
    assert requests == [(18, 24)]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_phone_photos_come_out_upright(orientation: int) -> None:
    data = oriented_jpeg(orientation)
    rendered = render(
        io.BytesIO(data),
        [
            Spec("fit", fit=(32, 32), format="png"),
            Spec("left", fill=(24, 24), anchor="left", format="png"),
            Spec("right", fill=(24, 24), anchor="right", format="png"),
            Spec("same", fit=(100, 100), format="png"),
        ],
    )
    assert (rendered.width, rendered.height) == (64, 48)
    fit, left, right, same = (opened(o.data).convert("RGB") for o in rendered.outputs)
    assert fit.size == (32, 24)
    assert same.size == (64, 48)
    for image, (w, h) in ((fit, (32, 24)), (same, (64, 48))):
        corners = {
            "top-left": (w // 4, h // 4),
            "top-right": (3 * w // 4, h // 4),
            "bottom-left": (w // 4, 3 * h // 4),
            "bottom-right": (3 * w // 4, 3 * h // 4),
        }
        for name, xy in corners.items():
            assert close(image.getpixel(xy), QUADRANTS[name]), (orientation, name, xy)
    # Anchors are about the upright picture: the left crop keeps red, the right one yellow.
    assert left.size == right.size == (24, 24)
    assert close(left.getpixel((2, 2)), QUADRANTS["top-left"])
    assert close(left.getpixel((21, 21)), QUADRANTS["bottom-right"])
    assert close(right.getpixel((2, 2)), QUADRANTS["top-left"])
    assert close(right.getpixel((21, 2)), QUADRANTS["top-right"])
    assert close(right.getpixel((21, 21)), QUADRANTS["bottom-right"])
    assert close(left.getpixel((2, 21)), QUADRANTS["bottom-left"])


def test_a_source_smaller_than_the_box_is_not_enlarged() -> None:
    data = save(Image.new("RGB", (100, 100), (50, 100, 150)), "PNG")
    rendered = render(
        io.BytesIO(data),
        [
            Spec("fill", fill=(200, 150)),
            Spec("fill-up", fill=(200, 150), upscale=True),
            Spec("fit", fit=(300, 300)),
            Spec("fit-up", fit=(300, 300), upscale=True),
        ],
    )
    assert [(o.width, o.height) for o in rendered.outputs] == [
        (100, 75),
        (200, 150),
        (100, 100),
        (300, 300),
    ]
    assert {o.format for o in rendered.outputs} == {"png"}  # like the source


def test_alpha_is_kept_where_the_format_has_it_and_flattened_onto_the_background() -> None:
    source = Image.new("RGBA", (40, 40), (0, 0, 255, 255))
    source.paste((0, 0, 0, 0), (0, 0, 20, 40))  # left half fully transparent
    data = save(source, "PNG")
    rendered = render(
        io.BytesIO(data),
        [
            Spec("jpeg", fit=(20, 20), format="jpeg", background="#ff0000"),
            Spec("png", fit=(20, 20), format="png"),
            Spec("webp", fit=(20, 20), format="webp"),
            Spec("avif", fit=(20, 20), format="avif"),
            Spec("gif", fit=(20, 20), format="gif"),
        ],
    )
    jpeg, png, webp, avif, gif = (opened(o.data) for o in rendered.outputs)
    assert jpeg.mode == "RGB"
    assert close(jpeg.getpixel((2, 10)), (255, 0, 0))  # the background
    assert close(jpeg.getpixel((17, 10)), (0, 0, 255))
    assert "transparency" in gif.info
    for image in (png, webp, avif, gif.convert("RGBA")):
        assert image.mode == "RGBA"
        assert image.getpixel((2, 10))[3] == 0
        assert image.getpixel((17, 10))[3] == 255


def test_an_alpha_channel_that_is_opaque_everywhere_is_dropped() -> None:
    data = save(Image.new("RGBA", (30, 20), (10, 20, 30, 255)), "PNG")
    (png,) = render(io.BytesIO(data), [Spec("p", width=15)]).outputs
    assert opened(png.data).mode == "RGB"


def test_grey_sources_stay_grey() -> None:
    data = save(Image.new("L", (30, 20), 77), "PNG")
    png, jpeg = render(
        io.BytesIO(data), [Spec("p", width=15), Spec("j", width=15, format="jpeg")]
    ).outputs
    assert opened(png.data).mode == "L"
    assert opened(jpeg.data).mode == "L"
    assert opened(png.data).getpixel((3, 3)) == 77


def test_palette_sources_are_resized_with_the_filter_not_nearest_neighbour() -> None:
    # Alternating black and white columns: filtered, they average to grey; sampled
    # nearest-neighbour (what Pillow does for palette images), they stay black or white.
    source = Image.new("P", (40, 20))
    source.putpalette([0, 0, 0, 255, 255, 255])
    source.putdata([x % 2 for _ in range(20) for x in range(40)])
    (png,) = render(io.BytesIO(save(source, "PNG")), [Spec("p", width=4)]).outputs
    image = opened(png.data)
    assert (image.mode, image.size) == ("RGB", (4, 2))
    for x in range(4):
        assert close(image.getpixel((x, 0)), (128, 128, 128), tolerance=16)


def test_animated_gif_stays_animated_in_formats_that_animate() -> None:
    data, durations = animated_gif(frames=5)
    rendered = render(
        io.BytesIO(data),
        [
            Spec("gif", fit=(20, 20)),  # like the source: GIF
            Spec("webp", fit=(20, 20), format="webp"),
            Spec("png", fit=(20, 20), format="png"),
            Spec("jpeg", fill=(10, 10), format="jpeg"),
        ],
    )
    assert rendered.frames == 5
    gif, webp, png, _ = rendered.outputs
    assert [(o.format, o.frames, o.width, o.height) for o in rendered.outputs] == [
        ("gif", 5, 20, 15),
        ("webp", 5, 20, 15),
        ("png", 1, 20, 15),
        ("jpeg", 1, 10, 10),
    ]
    expected = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    for output in (gif, webp):
        image = Image.open(io.BytesIO(output.data))
        assert image.n_frames == 5
        for number in range(5):
            image.seek(number)
            image.load()
            assert image.info["duration"] == durations[number]
            assert close(image.convert("RGB").getpixel((10, 7)), expected[number])
    assert close(opened(png.data).convert("RGB").getpixel((10, 7)), expected[0])
    assert rendered.notes == ()


def test_an_animation_over_budget_renders_its_first_frame_and_says_so() -> None:
    data, _ = animated_gif(frames=5)
    rendered = render(io.BytesIO(data), [Spec("webp", fit=(20, 20), format="webp")], max_frames=4)
    (webp,) = rendered.outputs
    assert webp.frames == 1
    assert not getattr(Image.open(io.BytesIO(webp.data)), "is_animated", False)
    assert rendered.notes == (
        "5 frames of 40x30 exceed the budget (4 frames, 50000000 pixels in all): first frame only.",
    )
    pixels = render(
        io.BytesIO(data), [Spec("webp", fit=(20, 20), format="webp")], max_pixels=40 * 30 * 4
    )
    assert pixels.outputs[0].frames == 1
    assert DEFAULT_MAX_PIXELS == 50_000_000


def test_the_stream_position_is_restored_and_the_stream_left_open() -> None:
    stream = io.BytesIO(b"junk" + photo((64, 48)))
    stream.seek(4)
    payload = io.BytesIO(stream.read())
    payload.seek(17)
    render(payload, [Spec("t", width=10)])
    assert payload.tell() == 17
    assert not payload.closed


def test_no_specs_still_gives_the_placeholder() -> None:
    rendered = render(io.BytesIO(photo((64, 48))), [])
    assert rendered.outputs == ()
    assert rendered.placeholder is not None
    assert render(io.BytesIO(photo((64, 48))), [], placeholder=False).placeholder is None


@pytest.mark.parametrize(
    ("fmt", "mode", "output"),
    [
        ("JPEG", "RGB", "jpeg"),
        ("PNG", "RGBA", "png"),
        ("WEBP", "RGB", "webp"),
        ("AVIF", "RGB", "avif"),
        ("GIF", "P", "gif"),
        ("TIFF", "RGB", "jpeg"),  # other formats: JPEG...
        ("TIFF", "RGBA", "png"),  # ...or PNG when they have alpha
        ("BMP", "RGB", "jpeg"),
    ],
)
def test_each_accepted_source_format_renders_like_itself(fmt: str, mode: str, output: str) -> None:
    colour = {"RGB": (200, 100, 50), "RGBA": (200, 100, 50, 128), "P": 0}[mode]
    source = Image.new(mode, (60, 40), colour)
    if mode == "P":
        source.putpalette([200, 100, 50] * 256)
    rendered = render(io.BytesIO(save(source, fmt)), [Spec("s", width=30)])
    (made,) = rendered.outputs
    assert (rendered.source_format, made.format, made.width, made.height) == (fmt, output, 30, 20)
    assert close(opened(made.data).convert("RGB").getpixel((15, 10)), (200, 100, 50), 16)


def test_an_animation_with_a_broken_later_frame_renders_its_first_frame() -> None:
    rendered = render(
        io.BytesIO(apng_with_a_broken_frame()), [Spec("webp", fit=(20, 20), format="webp")]
    )
    assert rendered.frames == 3
    (webp,) = rendered.outputs
    assert (webp.frames, webp.width, webp.height) == (1, 20, 15)
    assert close(opened(webp.data).convert("RGB").getpixel((10, 7)), (255, 0, 0))
    assert rendered.notes == (
        "The source's frame 1 could not be read (SyntaxError: APNG contains frame sequence "
        "errors); it is corrupt or truncated. The first frame is rendered instead.",
    )


def test_the_formats_of_one_region_share_its_resize(monkeypatch: pytest.MonkeyPatch) -> None:
    from ikstorage.renditions.image import pipeline

    resized: list[Any] = []
    original = pipeline._Job._resize

    def resize(self: Any, base: Image.Image, where: Any) -> Image.Image:
        resized.append(where)
        return original(self, base, where)

    monkeypatch.setattr(pipeline._Job, "_resize", resize)
    specs = [
        Spec("thumb", fill=(100, 75), format="webp"),
        Spec("thumb", fill=(100, 75), format="jpeg"),
        Spec("thumb", fill=(100, 75), format="png"),
        Spec("large", fit=(400, 400)),
    ]
    rendered = render(io.BytesIO(photo((1600, 1200))), specs)
    assert [(o.width, o.height, o.format) for o in rendered.outputs] == [
        (100, 75, "webp"),
        (100, 75, "jpeg"),
        (100, 75, "png"),
        (400, 300, "jpeg"),
    ]
    assert len(resized) == 2  # one per region, not one per output
