"""The work of a render is bounded before decoding starts: frames, canvases and scans read first.

A GIF's frames may grow its canvas past the logical screen, a WebP decoder
allocates the canvas its header claims, and a progressive JPEG may hold any
number of scans, each a walk over the whole image. Each is read from the
bytes before Pillow decodes (or, for GIF and WebP, opens) anything; what
Pillow decodes is watched here through ``ImageFile.load``.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image, ImageFile, WebPImagePlugin

from ikstorage.exceptions import TooManyPixelsError, UnreadableImageError
from ikstorage.renditions import Spec, render
from ikstorage.renditions.image.colour import working
from ikstorage.renditions.image.declared import Declared, declared
from ikstorage.renditions.image.frames import whole_frames
from ikstorage.renditions.image.scans import MAX_SCANS, scan_count
from tests.hostile.corpus import garbage, jpeg_scans, jpeg_segment, jpeg_with, webp_canvas
from tests.hostile.gifs import Frame, gif
from tests.renditions.sources import photo, save

ANIMATED = [Spec("same", fit=(40, 30)), Spec("moving", fit=(40, 30), format="webp")]
RED, GREEN = (255, 0, 0), (0, 255, 0)  # palette indexes 1 and 2 of tests.hostile.gifs


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int]]]:
    """``(format, size)`` of every decode Pillow does (``ImageFile.load``), in order."""
    seen: list[tuple[str, tuple[int, int]]] = []
    original = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> Any:
        if self.tile:
            seen.append((str(self.format), self.size))
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return seen


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per ``Image.open`` call."""
    calls: list[int] = []
    original = Image.open

    def spy(*args: Any, **kwargs: Any) -> Image.Image:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(Image, "open", spy)
    return calls


def near(pixel: Any, colour: tuple[int, int, int]) -> bool:
    """Within 8 levels on every channel (WebP is lossy)."""
    return all(abs(a - b) <= 8 for a, b in zip(pixel, colour, strict=True))


def frames_of(data: bytes) -> list[Image.Image]:
    with Image.open(io.BytesIO(data)) as image:
        out = []
        for number in range(getattr(image, "n_frames", 1)):
            image.seek(number)
            out.append(image.convert("RGB"))
        return out


# -- GIF: frames that grow the canvas ---------------------------------------------------


def test_a_later_gif_frame_beyond_max_pixels_is_never_decoded(
    decoded: list[tuple[str, tuple[int, int]]],
) -> None:
    data = gif((8, 8), [Frame((8, 8)), Frame((300, 200))])
    rendered = render(io.BytesIO(data), ANIMATED, max_pixels=10_000)
    assert decoded == [("GIF", (8, 8))]
    assert [(o.format, o.frames, o.width, o.height) for o in rendered.outputs] == [
        ("gif", 1, 8, 8),
        ("webp", 1, 8, 8),
    ]
    assert rendered.notes == (
        "2 frames of 300x200 (later frames grow the 8x8 canvas) exceed the budget "
        "(300 frames, 10000 pixels in all): first frame only.",
    )


def test_the_animation_budget_counts_the_canvas_later_frames_grow(
    decoded: list[tuple[str, tuple[int, int]]],
) -> None:
    # 2 frames of the 40x30 screen would be 2400 pixels; the second frame grows it to 60x45.
    data = gif((40, 30), [Frame((40, 30)), Frame((20, 15), offset=(40, 30), colour=2)])
    rendered = render(io.BytesIO(data), ANIMATED, max_pixels=2400)
    assert decoded == [("GIF", (40, 30))]
    assert [o.frames for o in rendered.outputs] == [1, 1]
    assert rendered.notes[0].startswith("2 frames of 60x45 (later frames grow the 40x30 canvas)")


def test_an_upscaled_animation_counts_its_frames_at_the_output_size() -> None:
    # 5 frames of 40x30 are 6000 pixels; upscaled to 400x300 and held, 600000.
    data = gif((40, 30), [Frame((40, 30), colour=n % 4) for n in range(5)])
    spec = Spec("big", fit=(400, 300), upscale=True, format="webp")
    rendered = render(io.BytesIO(data), [spec], max_pixels=150_000)
    assert [(o.frames, o.width, o.height) for o in rendered.outputs] == [(1, 400, 300)]
    assert rendered.notes == (
        "5 frames of 40x30 (an output of 120000 pixels a frame) exceed the budget "
        "(300 frames, 150000 pixels in all): first frame only.",
    )
    assert render(io.BytesIO(data), [spec], max_pixels=600_000).outputs[0].frames == 5


def test_frames_in_the_budget_are_cut_to_the_first_frames_canvas() -> None:
    # Frame 2 (green) lies partly outside the 40x30 screen: Pillow composites on 50x35.
    data = gif((40, 30), [Frame((40, 30)), Frame((20, 15), offset=(30, 20), colour=2)])
    rendered = render(io.BytesIO(data), ANIMATED)
    assert rendered.notes == ()
    for output in rendered.outputs:
        assert (output.frames, output.width, output.height) == (2, 40, 30)
        first, second = frames_of(output.data)
        assert near(first.getpixel((26, 18)), RED)
        assert near(first.getpixel((35, 25)), RED)
        # Cut, not squeezed: what the screen shows stays where it was.
        assert near(second.getpixel((26, 18)), RED)
        assert near(second.getpixel((35, 25)), GREEN)


def test_a_first_gif_frame_beyond_the_screen_is_refused_before_pillow_opens_it(
    opened: list[int],
) -> None:
    # Pillow would grow the canvas in Image.open and fill the frame's area (disposal 2).
    data = gif((8, 8), [Frame((300, 200), disposal=2)])
    with pytest.raises(TooManyPixelsError) as caught:
        render(io.BytesIO(data), ANIMATED, max_pixels=10_000)
    assert (caught.value.width, caught.value.height, caught.value.limit) == (300, 200, 10_000)
    assert opened == []


def test_a_frame_pillow_grows_past_the_budgeted_canvas_is_refused_before_decoding(
    decoded: list[tuple[str, tuple[int, int]]],
) -> None:
    data = gif((8, 8), [Frame((8, 8)), Frame((300, 200))])
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        first = working(image).copy()
        frames = whole_frames(image, first, 2, (8, 8), 10_000)
        assert next(frames)[0] is first
        with pytest.raises(TooManyPixelsError) as caught:
            next(frames)
    assert str(caught.value).startswith("Frame 1 grows the canvas to 300x200 = 60000 pixels")
    assert decoded == [("GIF", (8, 8))]


@pytest.mark.parametrize(
    ("screen", "frames", "expected"),
    [
        ((40, 30), [Frame((40, 30)), Frame((40, 30))], Declared((40, 30), (40, 30), 2)),
        ((8, 8), [Frame((8, 8)), Frame((30, 20))], Declared((8, 8), (30, 20), 2)),
        ((8, 8), [Frame((30, 2)), Frame((2, 20))], Declared((30, 8), (30, 20), 2)),
        ((8, 8), [Frame((1, 1), offset=(99, 9))], Declared((100, 10), (100, 10), 1)),
        ((8, 8), [Frame((8, 8))] + [Frame((1, 1), offset=(n, n)) for n in range(20)], None),
    ],
)
def test_declared_gif_canvases_are_the_sizes_pillow_grows_to(
    screen: tuple[int, int], frames: list[Frame], expected: Declared | None
) -> None:
    data = gif(screen, frames)
    # Bytes Pillow skips between blocks, and a comment, skipped alike.
    at = data.index(b"\x21\xf9")
    data = data[:at] + b"\x00\x07" + b"\x21\xfe\x03abc\x00" + data[at:]
    found = declared(io.BytesIO(data))
    with Image.open(io.BytesIO(data)) as image:
        sizes = [image.size]
        for number in range(1, image.n_frames):
            image.seek(number)
            sizes.append(image.size)
    assert found == Declared(sizes[0], max(sizes), len(sizes))
    if expected is not None:
        assert found == expected


def test_declared_is_none_for_other_formats_and_reads_a_webp_canvas() -> None:
    assert declared(io.BytesIO(photo((64, 48)))) is None
    assert declared(io.BytesIO(save(Image.new("RGB", (64, 48)), "PNG"))) is None
    for options in ({"lossless": True}, {"quality": 80}, {"exif": b"Exif\x00\x00II*\x00"}):
        data = save(Image.new("RGB", (123, 45)), "WEBP", **options)
        assert declared(io.BytesIO(data)) == Declared((123, 45), (123, 45))
    assert declared(io.BytesIO(webp_canvas(7500, 7500))) == Declared((7500, 7500), (7500, 7500))


# -- WebP: the canvas the decoder allocates ------------------------------------------------


def test_a_webp_canvas_over_the_cap_is_refused_before_the_decoder_allocates_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created: list[int] = []
    original = WebPImagePlugin._webp.WebPAnimDecoder

    def spy(*args: Any) -> Any:
        created.append(1)
        return original(*args)

    monkeypatch.setattr(WebPImagePlugin._webp, "WebPAnimDecoder", spy)
    with pytest.raises(TooManyPixelsError) as caught:
        render(io.BytesIO(webp_canvas(7500, 7500)), ANIMATED)
    assert (caught.value.width, caught.value.height) == (7500, 7500)
    assert created == []
    assert [o.frames for o in render(io.BytesIO(webp_canvas(16, 16)), ANIMATED).outputs] == [2, 2]
    assert created == [1]


# -- JPEG: scans ------------------------------------------------------------------------


def test_a_jpeg_of_too_many_scans_is_refused_before_decoding(
    decoded: list[tuple[str, tuple[int, int]]],
) -> None:
    with pytest.raises(UnreadableImageError) as caught:
        render(io.BytesIO(jpeg_scans(MAX_SCANS + 1, (64, 48))), ANIMATED)
    assert caught.value.reason == "too-many-scans"
    assert str(caught.value) == (
        "The source is a JPEG of more than 100 scans; each scan walks the whole image, "
        "so it was not decoded."
    )
    assert decoded == []
    rendered = render(io.BytesIO(jpeg_scans(MAX_SCANS, (64, 48))), ANIMATED)
    assert [(o.width, o.height) for o in rendered.outputs] == [(40, 30), (40, 30)]


def test_scans_are_counted_from_markers_not_from_bytes_that_look_like_them() -> None:
    thumbnail = photo((32, 24), progressive=True)  # ten scans inside an APP1 segment
    app1 = jpeg_segment(0xE1, b"Exif\x00\x00" + thumbnail)
    noise = Image.frombytes("RGB", (64, 48), garbage(64 * 48 * 3, 5))  # the same every run
    restarts = save(noise, "JPEG", quality=95, restart_marker_blocks=1)
    twelve = jpeg_scans(12, (64, 48))
    starts = [m.start() for m in re.finditer(b"\xff\xda", twelve)]
    cases = {
        "baseline": (photo((64, 48)), 1),
        "progressive": (photo((64, 48), progressive=True), 10),
        "a JPEG inside APP1": (jpeg_with(app1), 1),
        "restart markers and stuffing": (restarts, 1),
        "fill bytes before markers": (photo((64, 48)).replace(b"\xff\xda", b"\xff\xff\xff\xda"), 1),
        "2000 scans": (jpeg_scans(2000, (64, 48)), MAX_SCANS + 1),
        "cut in its third scan": (twelve[: starts[2] + 20], 3),
        "not a JPEG": (save(Image.new("RGB", (8, 8)), "PNG"), 0),
    }
    assert restarts.count(b"\xff\xd0") > 0  # restarts in the entropy-coded data
    assert restarts.count(b"\xff\x00") > 0  # and stuffed 0xFF bytes
    counted = {what: scan_count(io.BytesIO(data)) for what, (data, _) in cases.items()}
    assert counted == {what: expected for what, (_, expected) in cases.items()}
    assert scan_count(io.BytesIO(jpeg_scans(2000, (64, 48))), stop_after=10**6) == 2000


def test_an_upscaling_spec_on_a_thin_source_is_refused_before_decoding(
    decoded: list[tuple[str, tuple[int, int]]],
) -> None:
    # 2 x 1000 pixels pass every input check; width=2000 with upscale plans 2000 x 1,000,000.
    strip = save(Image.new("RGB", (2, 1000), RED), "JPEG")
    specs = [Spec("small", fit=(40, 30)), Spec("wide", width=2000, upscale=True)]
    with pytest.raises(TooManyPixelsError) as caught:
        render(io.BytesIO(strip), specs)
    assert caught.value.reason == "output-too-large"
    assert (caught.value.width, caught.value.height, caught.value.limit) == (
        2000,
        1_000_000,
        50_000_000,
    )
    assert "on this 2x1000 source plans a 2000x1000000 output" in str(caught.value)
    assert decoded == []  # refused from the header: the JPEG was not decoded
    # A PNG is decoded first (its EXIF may follow the pixels), then refused before resizing.
    with pytest.raises(TooManyPixelsError, match="2000x1000000 output"):
        render(io.BytesIO(save(Image.new("RGB", (2, 1000), RED), "PNG")), specs)
    # The same spec on a source it can upscale within the cap renders.
    rendered = render(io.BytesIO(save(Image.new("RGB", (20, 10), RED), "PNG")), specs)
    assert [(o.width, o.height) for o in rendered.outputs] == [(20, 10), (2000, 1000)]
