"""Animated sources: frames counted from the headers, then decoded one at a time.

Animated GIF, WebP and APNG sources stay animated in formats that animate
(WebP, GIF) while the frames fit the budget: at most ``max_frames`` frames
and at most ``max_pixels`` pixels in all of them together, since every frame
is held until it is encoded. Over budget, or in a format that does not
animate, only the first frame is rendered.

Frames are whole: Pillow composites each onto the ones before, so every
output frame stands alone and needs no disposal tricks from the encoder.
"""

from __future__ import annotations

from collections.abc import Iterator

from PIL import Image

from ikstorage.renditions.image.bad_input import DECODE_ERRORS, decoding
from ikstorage.renditions.image.colour import working

__all__ = ["ANIMATED_SOURCES", "fits_budget", "frame_count", "loop_count", "whole_frames"]

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


def fits_budget(frames: int, size: tuple[int, int], max_frames: int, max_pixels: int) -> bool:
    """True when ``frames`` frames of ``size`` may all be decoded and kept animated."""
    return 1 < frames <= max_frames and frames * size[0] * size[1] <= max_pixels


def loop_count(image: Image.Image) -> int:
    """How often the animation repeats (0: forever), read before any later frame is sought."""
    return int(image.info.get("loop", 0))


def whole_frames(
    image: Image.Image, first: Image.Image, count: int, max_pixels: int
) -> Iterator[tuple[Image.Image, int]]:
    """Each of ``count`` frames in a working mode, with its duration in milliseconds.

    ``first`` is frame 0, decoded already; the others are decoded as they are
    reached, so a broken later frame raises only once the earlier ones were used.
    """
    for number in range(count):
        if number == 0:
            frame = first
        else:
            with decoding(max_pixels, f"frame {number}"):
                image.seek(number)
                image.load()
                frame = working(image)
        yield frame, int(image.info.get("duration", 0) or 0)
