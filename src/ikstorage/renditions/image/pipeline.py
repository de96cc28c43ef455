"""Decode once, render many: the Pillow pipeline behind every rendition.

For one source and the specs that apply to it, :func:`render`

1. refuses an empty stream, a format outside :data:`SOURCE_FORMATS` and a
   header claiming more than ``max_pixels`` pixels, before any pixel is
   decoded (``Image.open`` reads the header only);
2. asks libjpeg for the smallest scale (1/2, 1/4, 1/8) that still gives the
   most demanding spec enough pixels (``Image.draft``: shrink-on-load, so a
   24-megapixel photo decodes at 3 megapixels for a 1600 px rendition and at
   0.4 for a thumbnail), then decodes once;
3. renders every spec from that decode: the region it shows is resized with
   Lanczos after an integer box reduction (``reducing_gap``), in stored
   orientation, and only the small result is rotated upright (EXIF);
4. converts each output to sRGB (ICC profiles honoured, CMYK handled),
   decides alpha per format, strips all metadata and encodes it
   (:mod:`.encoders`);
5. computes the placeholder from the smallest full-frame image at hand.

Step 1 is here; steps 2 to 5 are one :class:`~.job.Job` per source.
Animated GIF, WebP and APNG sources stay animated in formats that animate
(WebP, GIF) while the frames fit the budget (:mod:`.frames`); otherwise the
first frame is rendered and a note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from PIL import Image, UnidentifiedImageError

from ikstorage.exceptions import TooManyPixelsError, UnreadableImageError
from ikstorage.renditions.image.bad_input import decoding
from ikstorage.renditions.image.job import Job as _Job
from ikstorage.renditions.image.results import Output, Rendered
from ikstorage.renditions.specs import Spec

__all__ = [
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_PIXELS",
    "SOURCE_FORMATS",
    "Output",
    "Rendered",
    "render",
]

#: 50 megapixels: a 48- or 50-megapixel phone photo passes; more is refused.
#: Formats without shrink-on-load hold 4 bytes per pixel while rendering.
DEFAULT_MAX_PIXELS = 50_000_000
#: Animations with more frames are rendered as their first frame.
DEFAULT_MAX_FRAMES = 300
#: Source formats (Pillow plugin names) accepted; others are not opened at all,
#: so exotic plugins (EPS through Ghostscript, PSD, ...) never see uploads.
#: HEIF counts only where a plugin such as pillow-heif registered it.
SOURCE_FORMATS = ("JPEG", "MPO", "PNG", "GIF", "WEBP", "AVIF", "TIFF", "BMP", "HEIF")


def render(
    source: IO[bytes],
    specs: Sequence[Spec],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int = DEFAULT_MAX_FRAMES,
    placeholder: bool = True,
) -> Rendered:
    """Decode ``source`` (seekable, binary, read from its start) once and render ``specs``.

    The stream's position is restored. Raises
    :class:`~ikstorage.exceptions.UnreadableImageError` (empty, not an
    image, corrupt, truncated) or
    :class:`~ikstorage.exceptions.TooManyPixelsError` (more than
    ``max_pixels`` in the header, refused before decoding); no partial result.
    """
    position = source.tell()
    try:
        with _open(source, max_pixels) as image:
            return _Job(image, list(specs), max_pixels, max_frames).run(placeholder)
    finally:
        source.seek(position)


def _open(source: IO[bytes], max_pixels: int) -> Image.Image:
    source.seek(0)
    if not source.read(1):
        raise UnreadableImageError("The source is empty (0 bytes).", reason="empty")
    source.seek(0)
    Image.init()
    accepted = [name for name in SOURCE_FORMATS if name in Image.OPEN]
    with decoding(max_pixels, "header"):
        try:
            image = Image.open(source, formats=accepted)
        except UnidentifiedImageError as exc:
            raise UnreadableImageError(
                f"The source is not an image in an accepted format ({', '.join(accepted)}).",
                reason="not-an-image",
            ) from exc
    width, height = image.size
    if width * height > max_pixels:
        # Not image.close(): that would close the caller's stream too.
        raise TooManyPixelsError(
            f"The source is {width}x{height} = {width * height} pixels, more than the "
            f"{max_pixels} allowed; it was not decoded.",
            width=width,
            height=height,
            limit=max_pixels,
        )
    return image
