"""Animated sources: frames counted from the headers, then decoded one at a time.

Animated GIF, WebP and APNG sources stay animated in formats that animate
(WebP, GIF) while the frames fit the budget: at most ``max_frames`` frames
and at most ``max_pixels`` pixels in all of them together, each frame
counted at the canvas it is composited on (or at its largest animated
output, where a spec upscales). A GIF's later frames may grow
that canvas beyond the first frame's (Pillow composites them on the larger
one); the largest canvas is known from the headers (:mod:`.declared`) before
the first frame is decoded, so a frame claiming too many pixels makes the
animation over budget and is never decoded. Over budget, or in a format that
does not animate, only the first frame is rendered.

Frames are whole: Pillow composites each onto the ones before, so every
output frame stands alone and needs no disposal tricks from the encoder.
Each is cut to the first frame's canvas, the picture the source shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from PIL import Image

from ikstorage.exceptions import TooManyPixelsError
from ikstorage.renditions.image.bad_input import DECODE_ERRORS, decoding
from ikstorage.renditions.image.colour import has_alpha, working
from ikstorage.renditions.image.encoders import OUTPUTS, output_format
from ikstorage.renditions.image.geometry import plan
from ikstorage.renditions.specs import Spec

__all__ = [
    "ANIMATED_SOURCES",
    "fits_budget",
    "frame_count",
    "frame_pixels",
    "loop_count",
    "max_canvas",
    "whole_frames",
]

#: Source formats (Pillow plugin names) that may hold more than one frame.
ANIMATED_SOURCES = frozenset({"GIF", "WEBP", "PNG", "AVIF"})


def frame_count(image: Image.Image) -> int:
    """Frames of an animated source (counted from headers, nothing decoded); 1 otherwise."""
    if image.format not in ANIMATED_SOURCES:
        return 1
    try:
        return int(getattr(image, "n_frames", 1))
    except DECODE_ERRORS:
        return 1


def fits_budget(frames: int, frame_pixels: int, max_frames: int, max_pixels: int) -> bool:
    """True when ``frames`` frames of ``frame_pixels`` each may all be decoded and kept animated."""
    return 1 < frames <= max_frames and frames * frame_pixels <= max_pixels


def frame_pixels(
    image: Image.Image, specs: Iterable[Spec], stored: tuple[int, int], canvas: tuple[int, int]
) -> int:
    """What one frame of an animation costs: its ``canvas``, or a larger animated output.

    Every frame is decoded at the canvas and held, resized, until it is
    encoded; a spec that upscales makes the held frame the larger. Outputs
    are sized in either orientation (EXIF is not read yet).
    """
    largest = canvas[0] * canvas[1]
    alpha = has_alpha(image)
    for spec in specs:
        if OUTPUTS[output_format(spec.format, image.format, alpha)].animation:
            for width, height in (stored, stored[::-1]):
                out_w, out_h = plan(spec, width, height).size
                largest = max(largest, out_w * out_h)
    return largest


def max_canvas(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """The canvas holding both ``a`` and ``b`` (both anchored at the top-left corner)."""
    return max(a[0], b[0]), max(a[1], b[1])


def loop_count(image: Image.Image) -> int:
    """How often the animation repeats (0: forever), read before any later frame is sought."""
    return int(image.info.get("loop", 0))


def whole_frames(
    image: Image.Image,
    first: Image.Image,
    count: int,
    canvas: tuple[int, int],
    max_pixels: int,
) -> Iterator[tuple[Image.Image, int]]:
    """Each of ``count`` frames in a working mode, the size of ``first``, with its duration in ms.

    ``first`` is frame 0, decoded already; the others are decoded as they are
    reached, so a broken later frame raises only once the earlier ones were used.
    A frame whose canvas is larger than the budgeted ``canvas`` (headers that
    said otherwise) raises :class:`~ikstorage.exceptions.TooManyPixelsError`
    before it is decoded.
    """
    for number in range(count):
        if number == 0:
            frame = first
        else:
            with decoding(max_pixels, f"frame {number}"):
                image.seek(number)
                width, height = image.size
                if width > canvas[0] or height > canvas[1]:
                    raise TooManyPixelsError(
                        f"Frame {number} grows the canvas to {width}x{height} = "
                        f"{width * height} pixels, beyond the {canvas[0]}x{canvas[1]} "
                        "budgeted; it was not decoded.",
                        width=width,
                        height=height,
                        limit=max_pixels,
                    )
                image.load()
                shown = image if image.size == first.size else image.crop((0, 0, *first.size))
                frame = working(shown)
        yield frame, int(image.info.get("duration", 0) or 0)
