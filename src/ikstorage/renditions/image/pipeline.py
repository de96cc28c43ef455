"""Decode once, render many: the Pillow pipeline behind every rendition.

For one source and the specs that apply to it, :func:`render`

1. refuses an empty stream, a format outside :data:`SOURCE_FORMATS`, a
   header claiming more than ``max_pixels`` pixels and a JPEG of more than
   :data:`~.scans.MAX_SCANS` scans, before any pixel is decoded
   (``Image.open`` reads the header only; GIF and WebP headers, whose
   plugins allocate pixels while opening, are read first, by
   :mod:`.declared`);
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
(WebP, GIF) while the frames fit the budget, decided before the first frame
is decoded (:mod:`.frames`); otherwise the first frame is rendered and a
note says so.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import IO

from PIL import Image, UnidentifiedImageError

from ikstorage.exceptions import TooManyPixelsError, UnreadableImageError
from ikstorage.renditions.image.bad_input import decoding
from ikstorage.renditions.image.declared import Declared, declared
from ikstorage.renditions.image.job import Job as _Job
from ikstorage.renditions.image.results import Output, Rendered
from ikstorage.renditions.image.scans import MAX_SCANS, scan_count
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
    An ``UnreadableImageError`` with ``reason="too-many-scans"`` refuses a JPEG
    whose decoding would take minutes.
    """
    position = source.tell()
    try:
        image, headers = _open(source, max_pixels)
        with image:
            return _Job(image, list(specs), max_pixels, max_frames, headers).run(placeholder)
    finally:
        source.seek(position)


def refusal(head: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> str | None:
    """Why a file that starts with ``head`` is refused, when these bytes already say so.

    The checks :func:`render` makes before decoding, on the first bytes of a
    file not yet downloaded: a size over ``max_pixels`` (or Pillow's own
    bomb limit) or too many JPEG scans in ``head`` holds for the whole file
    too, so it need not be downloaded to be refused. ``None`` when the bytes
    do not tell (any other failure of a header cut short is not the file's).
    """
    try:
        image, _ = _open(io.BytesIO(head), max_pixels)
    except TooManyPixelsError as exc:
        return exc.reason
    except UnreadableImageError as exc:
        return exc.reason if exc.reason == "too-many-scans" else None
    except Exception:
        return None
    image.close()
    return None


def _open(source: IO[bytes], max_pixels: int) -> tuple[Image.Image, Declared | None]:
    source.seek(0)
    if not source.read(1):
        raise UnreadableImageError("The source is empty (0 bytes).", reason="empty")
    # GIF and WebP: the canvas Image.open would allocate, checked before it does.
    headers = declared(source)
    if headers is not None:
        _check(headers.first, max_pixels)
    if scan_count(source) > MAX_SCANS:
        raise UnreadableImageError(
            f"The source is a JPEG of more than {MAX_SCANS} scans; each scan walks the whole "
            "image, so it was not decoded.",
            reason="too-many-scans",
        )
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
    # Not image.close() on refusal: that would close the caller's stream too.
    _check(image.size, max_pixels)
    return image, headers


def _check(size: tuple[int, int], max_pixels: int) -> None:
    """Refuses ``size`` when it holds more than ``max_pixels`` pixels."""
    width, height = size
    if width * height > max_pixels:
        raise TooManyPixelsError(
            f"The source is {width}x{height} = {width * height} pixels, more than the "
            f"{max_pixels} allowed; it was not decoded.",
            width=width,
            height=height,
            limit=max_pixels,
        )
